"""Weight initialisers, in place and seeded by ``tinygan.manual_seed``, as ``torch.nn.init``.

Each takes a Tensor / Parameter **or a raw array** — PyTorch code passes
``m.weight.data``, which in tinygan is the parameter's array itself — and
writes into it (``data[...] = values``), so the parameter object, its
optimiser state and any view of it stay valid.  Like PyTorch's, they ignore
gradient recording (initialisation is never part of a graph); a tensor's
version counter is bumped, so a graph that already used the old values
refuses to backpropagate through them.

Formulas (PyTorch's ``torch.nn.init``):

* ``xavier_uniform_``: U(−a, a), a = gain·sqrt(6 / (fan_in + fan_out));
* ``xavier_normal_``: N(0, std²), std = gain·sqrt(2 / (fan_in + fan_out));
* ``kaiming_uniform_``: U(−b, b), b = gain·sqrt(3 / fan); ``kaiming_normal_``:
  N(0, (gain / sqrt(fan))²); fan = fan_in or fan_out (``mode``) and
  gain = ``calculate_gain(nonlinearity, a)``.
"""
from __future__ import annotations

import math

from .. import backend as B
from ..autograd import Tensor
from ..random import backend_rng

__all__ = ["calculate_gain", "fan_in_and_fan_out", "normal_", "uniform_", "zeros_", "ones_",
           "constant_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "default_bias_", "dcgan_init_"]


def _array(t):
    if isinstance(t, Tensor):
        return t.data
    if B.is_array(t):
        return t
    raise TypeError(f"nn.init: expected a Tensor, Parameter or array, got {type(t).__name__}")


def _fill(t, values):
    """Write ``values`` into ``t`` in place (a Tensor or an array) and return ``t``."""
    arr = _array(t)
    mod = B.array_module(arr)
    if B.is_array(values) and B.array_module(values) is not mod:
        values = mod.asarray(B.to_numpy(values))
    arr[...] = values
    if isinstance(t, Tensor):
        t._bump_version()
    return t


def _shape_dtype(t):
    arr = _array(t)
    if arr.dtype.kind != "f":
        raise TypeError(f"nn.init: can only initialise floating tensors, got dtype {arr.dtype}")
    return tuple(arr.shape), arr.dtype.type


def fan_in_and_fan_out(t):
    """(fan_in, fan_out) of a Linear (out, in) or Conv (out, in, kh, kw) weight, as PyTorch."""
    shape = tuple(_array(t).shape)
    if len(shape) < 2:
        raise ValueError(f"fan in/out needs a weight with at least 2 dims, got shape {shape}")
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param=None) -> float:
    """PyTorch's recommended gains: 1 (linear, conv, sigmoid), 5/3 (tanh), √2 (relu),
    sqrt(2 / (1 + slope²)) (leaky_relu, slope default 0.01), 3/4 (selu)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


# generator=: a tinygan.Generator to draw from instead of the global stream (as torch's)
def normal_(t, mean: float = 0.0, std: float = 1.0, generator=None):
    shape, dtype = _shape_dtype(t)
    draws = B.randn(shape, dtype=dtype, gen=backend_rng(generator, "nn.init.normal_"))
    return _fill(t, draws * std + mean)


def uniform_(t, a: float = 0.0, b: float = 1.0, generator=None):
    shape, dtype = _shape_dtype(t)
    draws = B.rand(shape, dtype=dtype, gen=backend_rng(generator, "nn.init.uniform_"))
    return _fill(t, draws * (b - a) + a)


def constant_(t, val: float):
    return _fill(t, val)


def zeros_(t):
    return _fill(t, 0)


def ones_(t):
    return _fill(t, 1)


def xavier_uniform_(t, gain: float = 1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(t)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a, generator)


def xavier_normal_(t, gain: float = 1.0, generator=None):
    fan_in, fan_out = fan_in_and_fan_out(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(t, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(t)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(t, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator=None):
    """U(−b, b), b = gain·sqrt(3 / fan).  PyTorch's default Linear/Conv weight init is this
    with a = √5, i.e. b = 1/sqrt(fan_in) (the layers pass a=√5)."""
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound, generator)


def kaiming_normal_(t, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator=None):
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity), generator)


def default_bias_(bias, weight):
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
