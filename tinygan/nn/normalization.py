"""``LayerNorm``, ``InstanceNorm1d/2d`` and ``GroupNorm`` layers (PyTorch's names, parameter
names and defaults), over :mod:`tinygan.ops.normalization`.

None of them mixes samples, so each suits a WGAN-GP critic, whose penalty is a per-sample
gradient norm (Gulrajani et al. 2017, §4: layer norm as the critic's drop-in for batch
norm).  The layers own γ (``weight``, init 1) and β (``bias``, init 0); instance norm keeps
PyTorch's defaults ``affine=False`` and ``track_running_stats=False`` (running estimates
are not supported).
"""
from __future__ import annotations

from .. import backend as B
from .._validate import positive_int
from ..autograd import Tensor
from ..ops.normalization import group_norm, instance_norm, layer_norm
from ._dtype import check_input_dtype
from .module import Module, Parameter


def _affine_parameters(module, shape, weight: bool, bias: bool) -> None:
    """γ = 1 and β = 0 of ``shape``, or None for the ones not kept."""
    xp, dt = B.xp(), B.default_dtype()
    for name, keep, fill in (("weight", weight, xp.ones), ("bias", bias, xp.zeros)):
        module.register_parameter(name, Parameter(fill(shape, dtype=dt)) if keep else None)


def _check_eps(who, eps):
    if not eps > 0:
        raise ValueError(f"{who}: eps must be positive, got {eps}")
    return float(eps)


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else \
            tuple(normalized_shape)
        self.normalized_shape = tuple(positive_int(s, "normalized_shape", "LayerNorm")
                                      for s in shape)
        self.eps = _check_eps("LayerNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        _affine_parameters(self, self.normalized_shape, self.elementwise_affine,
                           self.elementwise_affine and bias)
        self._made_on(device, dtype)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        check_input_dtype(f"LayerNorm({list(self.normalized_shape)})", x, self.weight)
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, " \
               f"elementwise_affine={self.elementwise_affine}"


class _InstanceNorm(Module):
    _ndim = 0

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None):
        super().__init__()
        who = type(self).__name__
        if track_running_stats:
            raise ValueError(f"{who}: track_running_stats=True is not supported (every call "
                             f"uses the sample's own statistics, PyTorch's default)")
        self.num_features = positive_int(num_features, "num_features", who)
        self.eps, self.momentum, self.affine = _check_eps(who, eps), momentum, bool(affine)
        _affine_parameters(self, (self.num_features,), self.affine, self.affine)
        self._made_on(device, dtype)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        who = f"{type(self).__name__}({self.num_features})"
        if x.ndim != self._ndim or x.shape[1] != self.num_features:
            raise ValueError(f"{who}: expected input of {self._ndim} dims (N, C, ...) with "
                             f"C = {self.num_features}, got shape {x.shape}")
        check_input_dtype(who, x, self.weight)
        return instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


class InstanceNorm1d(_InstanceNorm):
    _ndim = 3


class InstanceNorm2d(_InstanceNorm):
    _ndim = 4


class GroupNorm(Module):
    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None):
        super().__init__()
        self.num_groups = positive_int(num_groups, "num_groups", "GroupNorm")
        self.num_channels = positive_int(num_channels, "num_channels", "GroupNorm")
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} must be divisible by "
                             f"num_groups {num_groups}")
        self.eps, self.affine = _check_eps("GroupNorm", eps), bool(affine)
        _affine_parameters(self, (self.num_channels,), self.affine, self.affine)
        self._made_on(device, dtype)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        who = f"GroupNorm({self.num_groups}, {self.num_channels})"
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"{who}: expected input (N, {self.num_channels}, ...), got shape "
                             f"{x.shape}")
        check_input_dtype(who, x, self.weight)
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)
