"""Weight initialisers (in place, under no_grad, seeded by ``tinygan.manual_seed``)."""
from __future__ import annotations

import math

from .. import backend as B
from ..autograd import Tensor


def _fill(t: Tensor, array) -> Tensor:
    t.data = array.astype(t.dtype, copy=False).reshape(t.shape)
    return t


def fan_in_and_fan_out(t: Tensor):
    """(fan_in, fan_out) of a Linear (out, in) or Conv (out, in, kh, kw) weight, as PyTorch."""
    if t.ndim < 2:
        raise ValueError(f"fan in/out needs a weight with at least 2 dims, got shape {t.shape}")
    receptive = 1
    for s in t.shape[2:]:
        receptive *= s
    return t.shape[1] * receptive, t.shape[0] * receptive


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    return _fill(t, B.randn(t.shape, dtype=t.dtype) * std + mean)


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    return _fill(t, B.rand(t.shape, dtype=t.dtype) * (b - a) + a)


def zeros_(t: Tensor) -> Tensor:
    return _fill(t, B.array_module(t.data).zeros(t.shape, dtype=t.dtype))


def ones_(t: Tensor) -> Tensor:
    return _fill(t, B.array_module(t.data).ones(t.shape, dtype=t.dtype))


def constant_(t: Tensor, value: float) -> Tensor:
    return _fill(t, B.array_module(t.data).full(t.shape, value, dtype=t.dtype))


def kaiming_uniform_(t: Tensor, a: float = math.sqrt(5)) -> Tensor:
    """PyTorch's default Linear/Conv weight init: U(−b, b), b = gain·sqrt(3 / fan_in),
    gain = sqrt(2 / (1 + a²)); with a = √5 this is b = 1/sqrt(fan_in)."""
    fan_in, _ = fan_in_and_fan_out(t)
    gain = math.sqrt(2.0 / (1 + a * a))
    bound = gain * math.sqrt(3.0 / fan_in)
    return uniform_(t, -bound, bound)


def default_bias_(bias: Tensor, weight: Tensor) -> Tensor:
    """PyTorch's default bias init: U(−1/sqrt(fan_in), 1/sqrt(fan_in))."""
    fan_in, _ = fan_in_and_fan_out(weight)
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform_(bias, -bound, bound)


def dcgan_init_(module) -> None:
    """DCGAN §4: conv/linear weights ~ N(0, 0.02); batch-norm scale ~ N(1, 0.02), shift 0.

    Use as ``model.apply(dcgan_init_)``.
    """
    name = type(module).__name__
    if name.startswith("Conv") or name == "Linear":
        normal_(module.weight, 0.0, 0.02)
        if getattr(module, "bias", None) is not None:
            zeros_(module.bias)
    elif name.startswith("BatchNorm") and getattr(module, "weight", None) is not None:
        normal_(module.weight, 1.0, 0.02)
        zeros_(module.bias)
