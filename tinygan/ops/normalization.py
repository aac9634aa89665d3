"""Per-sample normalisations: layer norm (Ba et al. 2016), instance norm (Ulyanov et al.
2016) and group norm (Wu & He 2018), PyTorch's ``F.layer_norm``, ``F.instance_norm`` and
``F.group_norm``.

Each normalises x over some axes of one sample, x̂ = (x − μ) / sqrt(σ² + ε) with the
biased σ², then scales and shifts: y = γ·x̂ + β.  Unlike batch norm, no statistic crosses
samples, so a critic built from them keeps the gradient penalty's per-sample meaning —
Gulrajani et al. (2017, §4) recommend layer norm in WGAN-GP's critic for that reason.

They are composed from the differentiable ``mean``/``var`` ops (two passes, not
E[x²] − μ², which cancels in float32 when |μ| >> σ), so their gradients can themselves be
differentiated, as the penalty needs.
"""
from __future__ import annotations

from ..autograd import Tensor
from .elementwise import add, mul, rsqrt, sub
from .reduce import mean
from .shape import reshape

__all__ = ["layer_norm", "instance_norm", "group_norm"]


def _normalize(x: Tensor, axes: tuple, eps: float) -> Tensor:
    """(x − μ) / sqrt(σ² + ε) over ``axes``, σ² biased."""
    centred = sub(x, mean(x, axes, keepdims=True))
    return mul(centred, rsqrt(add(mean(mul(centred, centred), axes, keepdims=True), eps)))


def _affine(y: Tensor, weight, bias, shape) -> Tensor:
    if weight is not None:
        y = mul(y, reshape(weight, shape))
    if bias is not None:
        y = add(y, reshape(bias, shape))
    return y


def layer_norm(x: Tensor, normalized_shape, weight=None, bias=None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each sample over its last ``len(normalized_shape)`` dims, which must equal
    ``normalized_shape``; ``weight``/``bias`` have that shape (elementwise affine)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
        tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise ValueError(f"layer_norm: normalized_shape {list(shape)} must be the input's "
                         f"last dims, got input of shape {x.shape}")
    y = _normalize(x, tuple(range(x.ndim - k, x.ndim)), eps)
    return _affine(y, weight, bias, shape)


def instance_norm(x: Tensor, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1,
                  eps: float = 1e-5) -> Tensor:
    """Normalise each sample's channels over their spatial dims ((N, C, ...), at least one
    spatial dim); ``weight``/``bias`` per channel.  Running estimates are not supported."""
    if running_mean is not None or running_var is not None or not use_input_stats:
        raise ValueError("instance_norm: running estimates (track_running_stats=True) are "
                         "not supported; every call uses the sample's own statistics")
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected input (N, C, spatial...), got shape "
                         f"{x.shape}")
    y = _normalize(x, tuple(range(2, x.ndim)), eps)
    return _affine(y, weight, bias, (1, x.shape[1]) + (1,) * (x.ndim - 2))


def group_norm(x: Tensor, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise each sample over groups of ``C / num_groups`` channels (and all spatial
    dims); ``weight``/``bias`` per channel.  One group is layer norm over (C, H, W) with a
    per-channel affine; C groups is instance norm."""
    if x.ndim < 2 or num_groups <= 0 or x.shape[1] % num_groups:
        raise ValueError(f"group_norm: the channels (dim 1) of input shape {x.shape} must "
                         f"split into {num_groups} equal groups")
    n, c = x.shape[:2]
    grouped = reshape(x, (n, num_groups, -1))
    y = reshape(_normalize(grouped, (2,), eps), x.shape)
    return _affine(y, weight, bias, (1, c) + (1,) * (x.ndim - 2))
