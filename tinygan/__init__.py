"""tinygan — a from-scratch NumPy/CuPy deep-learning engine and the classic GAN family.

Layers, bottom-up (imports only point down):
backend → autograd → ops → nn → optim → gan → data / metrics / plots → cli.

The top level reads like ``torch``: ``import tinygan as torch`` gives ``torch.nn``,
``torch.optim``, ``torch.autograd``, ``torch.randn(..., device=...)``, ``torch.cat``,
``torch.no_grad`` ... (``docs/pytorch.md`` lists what still differs and why).
"""
from __future__ import annotations

import builtins as _builtins

import numpy as _np

from . import backend
from .autograd import (Tensor, Variable, enable_grad, grad, inference_mode, is_grad_enabled,
                       no_grad, set_grad_enabled)
from .backend import (default_dtype, get_backend, get_rng_state, initial_seed, manual_seed,
                      set_backend, set_default_dtype, set_rng_state, to_numpy)
from .backend import set_num_threads, tune_host_allocator  # noqa: F401  (host CPU tuning)
from .device import device
from .device import device as _device
from . import random as _random
from .random import Generator  # noqa: F401  (torch.Generator)
from . import autograd  # noqa: F401  (tinygan.autograd.grad, as torch.autograd.grad)
from . import ops  # noqa: F401  (binds Tensor's operators and methods)
from .ops import (abs, argmax, argmin, bmm, chunk, clamp, cumsum, exp, flip, gather, lerp,
                  log, log_softmax, logsumexp, matmul, maximum, minimum, mm, norm, relu,
                  rsqrt, sigmoid, sign, softmax, sort, split, sqrt, tanh, topk, where)
from .ops import mean, sum, var  # noqa: F401  (dim=/keepdim= or axis=/keepdims=)
from .dtypes import dtype_of as _dtype_of
from . import nn  # noqa: F401
from . import optim  # noqa: F401
from . import backends, cuda  # noqa: F401
from .backends import accelerator  # noqa: F401
from . import utils  # noqa: F401
from .serialization import load, save  # noqa: F401

__version__ = "0.1.0"

# dtype names as torch spells them (NumPy dtypes underneath).  They shadow the builtins
# float/int/bool inside this module, as in torch, so code below spells those type(1.0) ...
float32 = float = _np.dtype(_np.float32)  # noqa: A001
float64 = double = _np.dtype(_np.float64)
int64 = long = _np.dtype(_np.int64)
int32 = int = _np.dtype(_np.int32)  # noqa: A001
uint8 = _np.dtype(_np.uint8)
bool = _np.dtype(_np.bool_)  # noqa: A001


# ---------------------------------------------------------------- factories
def _shape(shape, who):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, (type(True), _np.bool_)) or not isinstance(s, (type(1), _np.integer)):
            raise TypeError(f"{who}: sizes must be integers, got {shape!r}")
    return tuple(type(1)(s) for s in shape)


def _place(array, dtype=None, device=None, requires_grad=False, who="tensor"):
    """A new leaf from an array of the active backend, cast to ``dtype``, moved to ``device``."""
    dt = _dtype_of(dtype, who)
    if dt is not None and array.dtype != dt:
        array = array.astype(dt)
    if device is not None:
        module = _device(device).module()
        if backend.array_module(array) is not module:
            array = module.asarray(backend.to_numpy(array))
    t = Tensor._make(array, False, None)
    return t.requires_grad_(True) if requires_grad else t


def _float_dtype(dtype, who):
    dt = _dtype_of(dtype, who)
    return dt.type if dt is not None else default_dtype()


def tensor(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A new tensor holding a copy of ``data``.  As torch.tensor: an array or a tensor keeps
    its dtype (a float64 NumPy array stays float64), Python numbers and lists of them take
    the default float dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and (backend.is_array(data) or isinstance(data, _np.generic)):
        dtype = data.dtype
    arr = Tensor(backend.to_numpy(data) if backend.is_array(data) else data,
                 dtype=_dtype_of(dtype, "tensor")).data
    if arr is data:
        arr = arr.copy()
    return _place(arr, None, device, requires_grad, "tensor")


def as_tensor(data, dtype=None, device=None) -> Tensor:
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array) -> Tensor:
    """The NumPy array as a tensor, dtype kept (float64 stays float64, as in torch)."""
    if not isinstance(array, _np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(backend.to_device(array), False, None)


def _size(shape, size, who):
    """The sizes given as ``*size`` or as ``size=`` (torch takes both), checked."""
    if size is not None:
        if shape:
            raise TypeError(f"{who}: give the sizes either as arguments or as size=, not both")
        shape = (size,)
    return _shape(shape, who)


def randn(*shape, size=None, dtype=None, device=None, requires_grad=False,
          generator=None) -> Tensor:
    """Standard-normal samples on the active backend: the global stream (``manual_seed``), or
    ``generator``'s (a :class:`tinygan.Generator`)."""
    dt = _float_dtype(dtype, "randn")
    draws = backend.randn(_size(shape, size, "randn"), dtype=dt,
                          gen=_random.backend_rng(generator, "randn"))
    return _place(draws, None, device, requires_grad)


def rand(*shape, size=None, dtype=None, device=None, requires_grad=False,
         generator=None) -> Tensor:
    """Uniform [0, 1) samples on the active backend (global stream, or ``generator``'s)."""
    dt = _float_dtype(dtype, "rand")
    draws = backend.rand(_size(shape, size, "rand"), dtype=dt,
                         gen=_random.backend_rng(generator, "rand"))
    return _place(draws, None, device, requires_grad)


def randint(low, high=None, size=None, dtype=None, device=None, generator=None) -> Tensor:
    """Integers in [low, high) (``randint(high, size)`` as torch); int64 by default."""
    if size is None:
        raise TypeError("randint: size= is required, e.g. randint(0, 10, (64,))")
    if high is None:
        low, high = 0, low
    arr = backend.randint(low, high, _shape((size,), "randint"),
                          gen=_random.backend_rng(generator, "randint")).astype(_np.int64)
    return _place(arr, dtype, device)


def randperm(n, dtype=None, device=None, generator=None) -> Tensor:
    arr = backend.permutation(n, gen=_random.backend_rng(generator, "randperm"))
    return _place(arr.astype(_np.int64), dtype, device)


def _filled(shape, value, dtype, device, requires_grad, who):
    dt = _dtype_of(dtype, who)
    if dt is None:  # torch.full infers the dtype from the value: bool, int64 or float
        if who == "full" and isinstance(value, (type(True), _np.bool_)):
            dt = _np.dtype(_np.bool_)
        elif who == "full" and isinstance(value, (type(1), _np.integer)):
            dt = _np.dtype(_np.int64)
        else:
            dt = _np.dtype(default_dtype())
    arr = backend.xp().full(_shape(shape, who), value, dtype=dt)
    return _place(arr, None, device, requires_grad, who)


def zeros(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(_size(shape, size, "zeros"), 0, dtype, device, requires_grad, "zeros")


def ones(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(_size(shape, size, "ones"), 1, dtype, device, requires_grad, "ones")


def empty(*shape, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros (tinygan never hands out uninitialised memory)."""
    return _filled(_size(shape, size, "empty"), 0, dtype, device, requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``size`` filled with ``fill_value``; the dtype follows the value unless given."""
    size = tuple(size) if isinstance(size, (tuple, list)) else (size,)
    return _filled(size, fill_value, dtype, device, requires_grad, "full")


def _like(fill):
    def factory(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
        dt = _dtype_of(dtype) or input.dtype
        mod = backend.array_module(input.data)
        arr = fill(mod, input.shape, dt)
        return _place(arr, None, device, requires_grad)
    return factory


zeros_like = _like(lambda mod, shape, dt: mod.zeros(shape, dtype=dt))
ones_like = _like(lambda mod, shape, dt: mod.ones(shape, dtype=dt))
empty_like = zeros_like


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):  # noqa: A002
    dt = _dtype_of(dtype) or input.dtype
    arr = backend.array_module(input.data).full(input.shape, fill_value, dtype=dt)
    return _place(arr, None, device, requires_grad)


def _random_like(draw):
    def factory(input, dtype=None, device=None, requires_grad=False):  # noqa: A002
        dt = _dtype_of(dtype) or input.dtype
        arr = draw(input.shape, dtype=dt.type)
        target = device if device is not None else input.device
        return _place(arr, None, target, requires_grad)
    return factory


randn_like = _random_like(backend.randn)
rand_like = _random_like(backend.rand)


def randint_like(input, low=0, high=None, dtype=None, device=None):  # noqa: A002
    """Integers in [low, high) shaped as ``input`` (``randint_like(x, high)`` as torch); the
    dtype of ``input`` unless given."""
    if high is None:
        low, high = 0, low
    arr = backend.randint(low, high, input.shape).astype(_dtype_of(dtype) or input.dtype)
    return _place(arr, None, device if device is not None else input.device)


def _array_or_number(x):
    return x.data if isinstance(x, Tensor) else x


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Samples of N(mean, std²), as ``torch.normal``: ``normal(0.0, 1.0, size=(2, 3))``, or
    elementwise for tensor means and/or deviations (broadcast).  The sample is cut from the
    graph (PyTorch records one whose gradient is zero); draw ``mean + std * randn(...)`` for a
    reparametrised sample."""
    gen = _random.backend_rng(generator, "normal")
    m, s = _array_or_number(mean), _array_or_number(std)
    if size is None:
        if not (isinstance(mean, Tensor) or isinstance(std, Tensor)):
            raise TypeError("normal: give size= when mean and std are numbers, e.g. "
                            "normal(0.0, 1.0, size=(2, 3))")
        shape = _np.broadcast_shapes(getattr(m, "shape", ()), getattr(s, "shape", ()))
        like = (mean if isinstance(mean, Tensor) else std).dtype
        dt = like if dtype is None else _float_dtype(dtype, "normal")
    else:
        shape, dt = _shape((size,), "normal"), _float_dtype(dtype, "normal")
    return _place(backend.randn(shape, dtype=dt, gen=gen) * s + m, None, device)


def bernoulli(input, p=None, *, generator=None) -> Tensor:  # noqa: A002
    """0/1 samples, 1 with probability ``input`` (or ``p``) elementwise, in ``input``'s dtype,
    as ``torch.bernoulli`` (e.g. labels flipped at random).  Not differentiable."""
    probs = input.data if p is None else backend.array_module(input.data).full(
        input.shape, p, dtype=input.dtype)
    draws = backend.rand(input.shape, dtype=input.dtype,
                         gen=_random.backend_rng(generator, "bernoulli"))
    return Tensor._make((draws < probs).astype(input.dtype), False, None)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``arange(end)`` / ``arange(start, end, step)``: int64 for integer arguments, as torch."""
    if end is None:
        start, end = 0, start
    ints = _builtins.all(isinstance(v, (type(1), _np.integer)) for v in (start, end, step))
    dt = _dtype_of(dtype) or (_np.dtype(_np.int64) if ints else _np.dtype(default_dtype()))
    arr = backend.xp().arange(start, end, step).astype(dt)
    return _place(arr, None, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt = _dtype_of(dtype) or _np.dtype(default_dtype())
    arr = backend.xp().linspace(start, end, steps).astype(dt)
    return _place(arr, None, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    dt = _dtype_of(dtype) or _np.dtype(default_dtype())
    return _place(backend.xp().eye(n, m, dtype=dt), None, device, requires_grad)


# ---------------------------------------------------------------- functions
def cat(tensors, dim=0, *, axis=None) -> Tensor:
    """Join along an existing dim (``torch.cat``)."""
    return ops.concatenate(list(tensors), axis if axis is not None else dim)


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None) -> Tensor:
    """Join along a new dim (``torch.stack``)."""
    return ops.stack(list(tensors), axis if axis is not None else dim)


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    return input.flatten(start_dim, end_dim)


def max(input, dim=None, keepdim=False):  # noqa: A001,A002
    """``torch.max``: the maximum, (values, indices) along ``dim``, or elementwise of two."""
    return input.max(dim, keepdim)


def min(input, dim=None, keepdim=False):  # noqa: A001,A002
    return input.min(dim, keepdim)


def std(input, dim=None, unbiased=True, keepdim=False):  # noqa: A002
    return input.std(dim, unbiased, keepdim)


def pow(input, exponent):  # noqa: A001,A002
    return input ** exponent if isinstance(input, Tensor) else exponent.__rpow__(input)


def numel(input):  # noqa: A002
    return input.numel()


# Shape and test functions as torch spells them: each calls the tensor method, so the
# PyTorch conventions (transpose swaps two dims, squeeze takes a dim) hold here as well.
# ``all``/``any`` shadow the builtins in this module, as float/int/bool do (see the dtypes
# above): code here spells the builtins ``_builtins.all``.
def reshape(input, shape):  # noqa: A002
    return input.reshape(shape)


def squeeze(input, dim=None):  # noqa: A002
    return input.squeeze(dim)


def unsqueeze(input, dim):  # noqa: A002
    return input.unsqueeze(dim)


def transpose(input, dim0, dim1):  # noqa: A002
    return input.transpose(dim0, dim1)


def permute(input, dims):  # noqa: A002
    return input.permute(*dims)


clip = clamp


def isfinite(input):  # noqa: A002
    return input.isfinite()


def isnan(input):  # noqa: A002
    return input.isnan()


def all(input, dim=None, keepdim=False):  # noqa: A001,A002
    return input.all(dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001,A002
    return input.any(dim, keepdim)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """A Python bool, as torch.allclose (a host transfer of one value)."""
    a = input.data if isinstance(input, Tensor) else input
    b = other.data if isinstance(other, Tensor) else other
    return type(True)(backend.array_module(a).allclose(a, b, rtol=rtol, atol=atol,
                                                       equal_nan=equal_nan))  # bool is a dtype here


def is_tensor(x):
    return isinstance(x, Tensor)


def seed() -> int:
    """Seed the global stream from a fresh nondeterministic number and return it (torch.seed)."""
    value = _builtins.int(_np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(value)
    return value


def get_default_dtype():
    """The float dtype new tensors get (``set_default_dtype``), e.g. ``float32``."""
    return _np.dtype(default_dtype())


# torch.Size is a tuple subclass; tinygan's sizes are plain tuples
Size = tuple


# ---------------------------------------------------------------- methods as functions
def _method_function(name):
    """``torch.NAME(input, ...)`` = ``input.NAME(...)``: one home, the Tensor method."""
    def function(input, *args, **kwargs):  # noqa: A002 - PyTorch's argument name
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor as input, got {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``torch.{name}(input, ...)``: ``input.{name}(...)``."
    return function


add, sub, mul, div, neg, square = (_method_function(n) for n in
                                   ("add", "sub", "mul", "div", "neg", "square"))
subtract, multiply, divide = sub, mul, div
gt, ge, lt, le, eq, ne = (_method_function(n) for n in ("gt", "ge", "lt", "le", "eq", "ne"))
amax, amin, masked_fill, clone, detach = (_method_function(n) for n in
                                          ("amax", "amin", "masked_fill", "clone", "detach"))


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids of 1-D tensors, as ``torch.meshgrid``: with 'ij' output k varies along
    dim k; with 'xy' the first two dims are swapped (NumPy's default).  Each grid is an
    expanded view of its input, so gradients flow back to it."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if not tensors or not _builtins.all(isinstance(t, Tensor) and t.ndim <= 1 for t in tensors):
        raise ValueError("meshgrid: expected one or more 0-D or 1-D tensors")
    dims = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        dims[0], dims[1] = 1, 0  # input 0 varies along dim 1, input 1 along dim 0
    shape = [0] * len(tensors)
    for t, d in zip(tensors, dims):
        shape[d] = t.numel()
    grids = []
    for t, d in zip(tensors, dims):
        view = [1] * len(tensors)
        view[d] = t.numel()
        grids.append(t.reshape(view).expand(*shape))
    return tuple(grids)


# ---------------------------------------------------------------- legacy tensor types
from .tensor_types import (BoolTensor, ByteTensor, DoubleTensor, FloatTensor,  # noqa: E402,F401
                           IntTensor, LongTensor)
