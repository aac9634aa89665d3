"""The Tensor method table: every operator and method of :class:`~tinygan.autograd.Tensor`
that computes something, bound here so that ``autograd`` imports nothing from ``ops``.

Where PyTorch and NumPy conventions differ, the *methods* follow PyTorch (users
arrive with PyTorch code; ``docs/pytorch.md`` lists what still differs):

* ``x.size()`` is a method and ``x.numel()`` the element count (defined on Tensor);
* ``x.transpose(a, b)`` swaps two dims, ``x.permute(*dims)`` reorders them all;
* ``x.max(dim)`` / ``x.min(dim)`` return ``(values, indices)``; ``x.max()`` a scalar;
* reductions take ``dim=`` / ``keepdim=`` (``axis=`` / ``keepdims=`` are aliases);
* ``x.var()`` / ``x.std()`` are unbiased by default (``unbiased=False`` for the
  population value), as ``torch.var``;
* ``x.flatten()`` starts at dim 0 (the layer ``nn.Flatten`` keeps the batch dim).

The functional ops in :mod:`tinygan.ops` keep their NumPy-style signatures
(``ops.transpose(x, axes)``, ``ops.max(x, axis)`` → values); the methods call them.

In-place methods (``fill_``, ``zero_``, ``copy_``, ``normal_``, ``uniform_``,
``clamp_``, ``add_``, ``sub_``, ``mul_``, ``div_``) change ``x.data`` in place and
bump the tensor's version counter (see :mod:`tinygan.autograd`), so a backward
that needs the old values raises instead of returning a wrong gradient.  While
gradients are recorded they refuse a tensor that requires grad — a leaf
(parameter) would lose its link to its gradient, a graph node its saved values;
inside ``no_grad()`` (initialisation, weight clipping) leaves may be changed.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

from .. import backend as B
from .. import dtypes as D
from ..dtypes import dtype_of
from ..autograd import Function, Tensor, is_grad_enabled
from ..device import device as _device
from ..device import is_device_like
from ..random import backend_rng
from ._util import as_tensor, constant, normalize_axis, resolve_reduction
from .activation import relu, sigmoid, tanh
from .elementwise import (abs, add, cast, clip, div, eq, exp, ge, gt, le, lerp, log, lt,
                          masked_fill, maximum, minimum, mul, ne, neg, pow, rsqrt, sign, sqrt,
                          sub, where)
from .linalg import bmm, matmul, mm
from .loss import log_softmax, softmax
from .reduce import cumsum, logsumexp, max as _max
from .reduce import mean, min as _min, sum, var
from .shape import broadcast_to, chunk, flatten as _flatten, getitem, reshape, split, squeeze, \
    transpose, unsqueeze
from .shape import index_arrays

__all__ = ["install", "clamp", "norm", "normalize", "argmax", "argmin", "to_device", "dtype_of",
           "gather", "sort", "topk", "flip", "SortResult", "TopkResult",
           "MaxResult", "MinResult"]

#: ``x.max(dim)`` returns this (as ``torch.return_types.max``): ``.values``, ``.indices``
MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def _shape_args(shape, who):
    """``f(2, 3)`` and ``f((2, 3))`` both mean shape (2, 3), as in PyTorch."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, (int, D.integer)):
            raise TypeError(f"{who}: sizes must be integers, got {shape!r}")
    return tuple(int(s) for s in shape)


# ---------------------------------------------------------------- devices
class ToDevice(Function):
    """Move data to another backend's device; the gradient moves back (differentiable)."""

    def forward(self, x):
        self.source = B.array_module(x)
        return _move_array(x, self.target)

    def backward(self, g):
        return ToDevice.apply(g, target=self.source)


def _move_array(a, module):
    if B.array_module(a) is module:
        return a
    return module.asarray(B.to_numpy(a))


def to_device(x: Tensor, device) -> Tensor:
    """``x`` on ``device`` (a :class:`tinygan.device`, 'cpu', 'cuda' or a backend name)."""
    module = _device(device).module()
    if B.array_module(x.data) is module:
        return x
    return ToDevice.apply(x, target=module)


def _to(self, *args, **kwargs):
    """``x.to(device)``, ``x.to(dtype)``, ``x.to(device, dtype)``, ``x.to(other_tensor)``."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None), kwargs.pop("copy", None)
    if kwargs:
        raise TypeError(f"to(): unexpected keyword(s) {', '.join(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = _device(a.device), a.dtype
        elif is_device_like(a):
            device = a
        else:
            dtype = a
    out = self
    if device is not None:
        out = to_device(out, device)
    if dtype is not None:
        out = cast(out, dtype_of(dtype, "to()"))
    return out


def _type(self, dtype=None):
    """``x.type()`` names the dtype; ``x.type(torch.FloatTensor)`` / ``x.type(float32)`` casts."""
    if dtype is None:
        return str(self.dtype)
    return cast(self, dtype_of(dtype, "type()"))


# ---------------------------------------------------------------- reductions
def _sum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    dim, keepdim = resolve_reduction(dim, keepdim, axis, keepdims, "sum")
    x = self if dtype is None else cast(self, dtype_of(dtype))
    return sum(x, dim, keepdim)


def _mean(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    dim, keepdim = resolve_reduction(dim, keepdim, axis, keepdims, "mean")
    x = self if dtype is None else cast(self, dtype_of(dtype))
    return mean(x, dim, keepdim)


def _correction(unbiased, correction):
    if correction is not None:
        return int(correction)
    return 1 if unbiased else 0


def _var(self, dim=None, unbiased=True, keepdim=False, *, correction=None, axis=None,
         keepdims=None, ddof=None):
    dim, keepdim = resolve_reduction(dim, keepdim, axis, keepdims, "var")
    return var(self, dim, keepdim, ddof=_correction(unbiased, correction if ddof is None
                                                    else ddof))


def _std(self, dim=None, unbiased=True, keepdim=False, *, correction=None, axis=None,
         keepdims=None, ddof=None):
    return sqrt(_var(self, dim, unbiased, keepdim, correction=correction, axis=axis,
                     keepdims=keepdims, ddof=ddof))


def _arg_extremum(x, dim, keepdim, largest, who):
    data = x.data
    mod = B.array_module(data)
    if dim is None:
        idx = (data.argmax() if largest else data.argmin()).astype(D.int64)
        out = mod.asarray(idx).reshape((1,) * data.ndim if keepdim else ())
        return Tensor._make(out, False, None)
    ax = normalize_axis(dim, x.ndim, who)[0]
    idx = data.argmax(axis=ax) if largest else data.argmin(axis=ax)
    idx = idx.astype(D.int64)
    if keepdim:
        idx = mod.expand_dims(idx, ax)
    return Tensor._make(idx, False, None)


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (over all elements, or along ``dim``); int64, no gradient."""
    return _arg_extremum(x, dim, keepdim, True, "argmax")


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return _arg_extremum(x, dim, keepdim, False, "argmin")


def _take_along(x: Tensor, indices, ax: int) -> Tensor:
    """x[i0, ..., indices[i0, ..., ik], ..., ik] for every position of ``indices`` (an
    integer array of x's rank): NumPy's take_along_axis and PyTorch's gather, as a
    differentiable index (the gradient is added back at the positions taken)."""
    mod = B.array_module(x.data)
    grid = [mod.arange(n).reshape((1,) * i + (n,) + (1,) * (indices.ndim - i - 1))
            for i, n in enumerate(indices.shape)]
    grid[ax] = indices
    return getitem(x, tuple(grid))


def gather(x: Tensor, dim: int, index) -> Tensor:
    """PyTorch's ``torch.gather``: out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1;
    ``index`` has x's rank and is no larger than x in the other dims."""
    idx = index.data if isinstance(index, Tensor) else index
    idx = B.array_module(x.data).asarray(idx)
    ax = normalize_axis(dim, x.ndim, "gather")[0]
    if idx.ndim != x.ndim or idx.dtype.kind not in "iu" or any(
            a > b for d, (a, b) in enumerate(zip(idx.shape, x.shape)) if d != ax):
        raise ValueError(f"gather: index must be integers of the input's rank {x.ndim}, no "
                         f"larger than {x.shape} outside dim {ax}, got shape "
                         f"{tuple(idx.shape)} and dtype {idx.dtype}")
    return _take_along(x, idx, ax)


#: ``x.sort(dim)`` / ``x.topk(k)`` return these, as ``torch.return_types``
SortResult = namedtuple("sort", ["values", "indices"])
TopkResult = namedtuple("topk", ["values", "indices"])


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    """Values in order along ``dim`` and where they came from; the values are gathered, so
    their gradient flows back to the positions sorted (equal values keep their order)."""
    ax = normalize_axis(dim, x.ndim, "sort")[0]
    mod = B.array_module(x.data)
    keys = -x.data if descending else x.data
    idx = mod.argsort(keys, axis=ax, kind="stable").astype(D.int64)
    return SortResult(_take_along(x, idx, ax), Tensor._make(idx, False, None))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The ``k`` largest (or smallest) values along ``dim``, in order, and their indices."""
    ax = normalize_axis(dim, x.ndim, "topk")[0]
    if isinstance(k, bool) or not isinstance(k, (int, D.integer)) or not 0 <= k <= x.shape[ax]:
        raise ValueError(f"topk: k must be an integer in [0, {x.shape[ax]}] for dim {ax} of "
                         f"shape {x.shape}, got {k!r}")
    values, indices = sort(x, ax, descending=largest)
    keep = (slice(None),) * ax + (slice(0, int(k)),)
    return TopkResult(getitem(values, keep), Tensor._make(indices.data[keep], False, None))


def flip(x: Tensor, dims) -> Tensor:
    """``torch.flip``: the order reversed along each of ``dims`` (a view-like slice)."""
    axes = normalize_axis(dims, x.ndim, "flip")
    return getitem(x, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(x.ndim)))


def _extremum_method(largest):
    reduce_fn, pair, name = (_max, MaxResult, "max") if largest else (_min, MinResult, "min")
    elementwise = maximum if largest else minimum

    def method(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
            return elementwise(self, dim)
        dim, keepdim = resolve_reduction(dim, keepdim, axis, keepdims, name)
        if dim is None:
            return reduce_fn(self)
        if not isinstance(dim, (int, D.integer)):
            raise TypeError(f"{name}(dim): dim must be one int (PyTorch returns values and "
                            f"indices along one dim), got {dim!r}")
        ax = normalize_axis(int(dim), self.ndim, name)[0]
        indices = _arg_extremum(self, ax, True, largest, name)
        # The values are the elements at the indices, so the gradient goes to the one
        # element the index names, as PyTorch's max(dim) does; at ties reduce_fn (x.max(),
        # amax) would split it evenly among the equal elements instead.
        values = _take_along(self, indices.data, ax)
        if not keepdim:
            values, indices = squeeze(values, ax), squeeze(indices, ax)
        return pair(values, indices)
    method.__name__ = name
    method.__doc__ = (f"``x.{name}()`` → the {name} as a 0-d tensor; ``x.{name}(dim)`` → "
                      f"(values, indices) along ``dim``; ``x.{name}(other)`` → elementwise.")
    return method


def _amax_method(largest):
    reduce_fn, name = (_max, "amax") if largest else (_min, "amin")

    def method(self, dim=(), keepdim=False):
        """PyTorch's ``amax``/``amin``: values only, over one dim or several (all when
        ``dim`` is empty); at ties the gradient is split evenly, as PyTorch's."""
        axes = None if dim in ((), [], None) else dim
        return reduce_fn(self, normalize_axis(axes, self.ndim, name), keepdim)
    method.__name__ = name
    return method


def _test_method(name):
    """``x.isfinite()``, ``x.isnan()``: elementwise tests; ``x.all()``, ``x.any()``: over all
    elements or ``dim``.  Booleans, outside the graph."""
    def method(self, dim=None, keepdim=False):
        fn = getattr(B.array_module(self.data), name)
        if name in ("isfinite", "isnan"):
            return Tensor._make(fn(self.data), False, None)
        axes = normalize_axis(dim, self.ndim, name)
        return Tensor._make(B.array_module(self.data).asarray(
            fn(self.data, axis=axes, keepdims=keepdim)), False, None)
    method.__name__ = name
    return method


def _logsumexp_method(self, dim=None, keepdim=False):
    return logsumexp(self, dim, keepdim)


def _softmax_method(self, dim, dtype=None):
    return softmax(self if dtype is None else cast(self, dtype_of(dtype)), dim)


def _log_softmax_method(self, dim, dtype=None):
    return log_softmax(self if dtype is None else cast(self, dtype_of(dtype)), dim)


def norm(x: Tensor, p=2, dim=None, keepdim: bool = False) -> Tensor:
    """The p-norm over all elements or over ``dim`` (``'fro'`` = 2, ``inf`` = max |x|).

    The 2-norm's gradient at x = 0 is 0 (the subgradient PyTorch returns), not NaN:
    see :class:`Norm2`.
    """
    if p == "fro":
        p = 2
    axes = normalize_axis(dim, x.ndim, "norm")
    if p == 2:
        return Norm2.apply(x, axis=axes, keepdims=bool(keepdim))
    if p == 1:
        return sum(abs(x), axes, keepdim)
    if p in (float("inf"), "inf"):
        return _max(abs(x), axes, keepdim)
    if isinstance(p, (int, float)) and p > 0:
        return pow(sum(pow(abs(x), float(p)), axes, keepdim), 1.0 / p)
    raise ValueError(f"norm: p must be a positive number, 'fro' or inf, got {p!r}")


def normalize(x: Tensor, p=2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """PyTorch's ``F.normalize``: x / max(‖x‖_p, eps) along ``dim``."""
    return div(x, clamp(norm(x, p, dim, keepdim=True), min=eps))


class Norm2(Function):
    """‖x‖₂ = sqrt(Σ x²) over ``axis``.

    Backward: g · x / ‖x‖, with ‖x‖ replaced by 1 where it is 0 (x is 0 there, so
    the gradient is 0, as PyTorch's).  Composing sqrt(sum(x*x)) instead would give
    0·inf = NaN at 0.  Written on Tensors (self.output is in the graph), so it is
    differentiable again.
    """

    def forward(self, x):
        self.in_shape = x.shape
        xp = B.array_module(x)
        return xp.sqrt((x * x).sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, g):
        (x,) = self.inputs
        kept = tuple(1 if (self.axis is None or i in self.axis) else s
                     for i, s in enumerate(self.in_shape))
        n = reshape(self.output, kept)
        # + 1 exactly where the norm is 0: no branch, and still differentiable in n
        safe = n + constant((n.data == 0).astype(n.dtype))
        return broadcast_to(reshape(g, kept), self.in_shape) * x / safe


def clamp(x: Tensor, min=None, max=None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Limit ``x`` to [min, max]; either bound may be None, a number or a tensor."""
    if min is None and max is None:
        raise ValueError("clamp: give min=, max= or both")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x
        if min is not None:
            out = maximum(out, min)
        if max is not None:
            out = minimum(out, max)
        return out
    return clip(x, min, max)


# ---------------------------------------------------------------- shapes
def _view(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, D.integer)):
        raise TypeError("view(dtype) is not supported; use .to(dtype) (a copy)")
    return reshape(self, *shape)


def _reshape(self, *shape):
    return reshape(self, *shape)


def _flatten_method(self, start_dim=0, end_dim=-1):
    nd = builtins.max(self.ndim, 1)
    start, end = start_dim % nd, end_dim % nd
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"shape {self.shape}")
    if self.ndim == 0:
        return reshape(self, (1,))
    if end == self.ndim - 1:
        return _flatten(self, start)
    merged = 1
    for s in self.shape[start:end + 1]:
        merged *= s
    return reshape(self, self.shape[:start] + (merged,) + self.shape[end + 1:])


def _type_as(self, other):
    """This tensor in ``other``'s dtype and on its device (torch's ``type_as``)."""
    return self.to(other.device, other.dtype)


def _square(self):
    """x², as ``x * x`` (one multiply; its gradient is 2x·g through the product rule)."""
    return self * self


def _unflatten_method(self, dim, sizes):
    """``x.unflatten(dim, sizes)``: dim ``dim`` split into ``sizes`` (one may be −1), as
    torch's; the inverse of ``flatten`` over those dims."""
    if self.ndim == 0:
        raise ValueError("unflatten: a 0-d tensor has no dim to split")
    if not -self.ndim <= dim < self.ndim:
        raise IndexError(f"unflatten: dim {dim} is out of range for shape {self.shape}")
    dim %= self.ndim
    if not isinstance(sizes, (tuple, list)) or not sizes:
        raise TypeError(f"unflatten: sizes must be a non-empty tuple of ints, e.g. (2, 3), "
                        f"got {sizes!r}")
    sizes, n = tuple(int(s) for s in sizes), self.shape[dim]
    try:  # reshape resolves a −1 and checks the count: the other dims are kept as they are
        return reshape(self, self.shape[:dim] + sizes + self.shape[dim + 1:])
    except ValueError:
        raise ValueError(f"unflatten: dim {dim} of shape {self.shape} has size {n}, which "
                         f"cannot be split into {sizes}") from None


def _transpose_method(self, dim0=None, dim1=None):
    if dim0 is None and dim1 is None:
        if self.ndim > 2:
            raise TypeError(f"transpose() needs two dims for a {self.ndim}-D tensor "
                            f"(transpose(dim0, dim1)); use permute(...) to reorder all dims")
        return transpose(self)
    if dim1 is None:
        raise TypeError("transpose(dim0, dim1) swaps two dims; use permute(...) to reorder "
                        "all dims")
    nd = builtins.max(self.ndim, 1)
    for d in (dim0, dim1):
        if not -nd <= d < nd:
            raise IndexError(f"transpose: dim {d} is out of range for shape {self.shape}")
    axes = list(range(self.ndim))
    a, b = dim0 % nd, dim1 % nd
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(self, tuple(axes))


def _t(self):
    if self.ndim > 2:
        raise ValueError(f"t() expects a tensor with <= 2 dims, got shape {self.shape}")
    return transpose(self)


def _permute(self, *dims):
    dims = _shape_args(dims, "permute")
    if len(dims) != self.ndim:
        raise ValueError(f"permute: {len(dims)} dims given for a tensor of shape {self.shape}")
    return transpose(self, dims)


def _squeeze_method(self, dim=None):
    if dim is None:
        return squeeze(self)
    dims = (dim,) if isinstance(dim, (int, D.integer)) else tuple(dim)
    nd = builtins.max(self.ndim, 1)
    for d in dims:
        if not -nd <= d < nd:
            raise IndexError(f"squeeze: dim {d} is out of range for shape {self.shape}")
    # PyTorch leaves a dim whose size is not 1 alone (no error).
    keep = [d % nd for d in dims if self.ndim and self.shape[d % nd] == 1]
    return squeeze(self, tuple(keep)) if keep else self


def _unsqueeze_method(self, dim):
    if not -self.ndim - 1 <= dim <= self.ndim:
        raise IndexError(f"unsqueeze: dim {dim} is out of range for shape {self.shape}")
    return unsqueeze(self, dim)


def _expand(self, *sizes):
    sizes = _shape_args(sizes, "expand")
    if len(sizes) < self.ndim:
        raise ValueError(f"expand: {len(sizes)} sizes for a tensor of shape {self.shape}")
    lead = len(sizes) - self.ndim
    target = []
    for i, s in enumerate(sizes):
        if s == -1:
            if i < lead:
                raise ValueError(f"expand: -1 is not allowed for a new leading dim ({sizes})")
            s = self.shape[i - lead]
        target.append(s)
    for i, s in enumerate(self.shape):
        if s != 1 and s != target[lead + i]:
            raise ValueError(f"expand: dim {i} of size {s} cannot be expanded to "
                             f"{target[lead + i]} (shape {self.shape} → {tuple(target)})")
    return broadcast_to(self, tuple(target))


def _expand_as(self, other):
    return _expand(self, other.shape)


def _repeat(self, *sizes):
    """Tile the tensor (``torch.Tensor.repeat``, NumPy's ``tile``): dim i grows ×sizes[i]."""
    sizes = _shape_args(sizes, "repeat")
    if len(sizes) < self.ndim:
        raise ValueError(f"repeat: {len(sizes)} repeat counts for a tensor of shape "
                         f"{self.shape}; give at least {self.ndim}")
    shape = (1,) * (len(sizes) - self.ndim) + self.shape
    x = reshape(self, shape)
    # (s0, s1, ...) → (1, s0, 1, s1, ...) → broadcast (r0, s0, r1, s1, ...) → merge pairs
    spread = tuple(v for s in shape for v in (1, s))
    tiled = tuple(v for r, s in zip(sizes, shape) for v in (r, s))
    out = broadcast_to(reshape(x, spread), tiled)
    return reshape(out, tuple(r * s for r, s in zip(sizes, shape)))


def _getitem(self, index):
    return getitem(self, index)


# ---------------------------------------------------------------- copies and factories
class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


def _clone(self, memory_format=None):
    return Clone.apply(self)


def _new_factory(fill):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        shape = _shape_args(size, "new_*")
        mod = B.array_module(self.data)
        dt = dtype_of(dtype) or self.dtype
        arr = mod.zeros(shape, dtype=dt) if fill == 0 else mod.full(shape, fill, dtype=dt)
        out = Tensor._make(arr, False, None)
        if device is not None:
            out = to_device(out, device)
        return out.requires_grad_(requires_grad)
    return method


def _new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
    return _new_factory(fill_value)(self, size, dtype=dtype, device=device,
                                    requires_grad=requires_grad)


def _new_tensor(self, data, dtype=None, requires_grad=False):
    arr = B.array_module(self.data).asarray(
        B.to_numpy(data.data) if isinstance(data, Tensor) else data,
        dtype=dtype_of(dtype) or (self.dtype if not isinstance(data, Tensor) else data.dtype))
    return Tensor._make(arr, False, None).requires_grad_(requires_grad)


# ---------------------------------------------------------------- in place
def _check_inplace(t: Tensor, who: str) -> None:
    if t.requires_grad and is_grad_enabled():
        if t.is_leaf:
            raise RuntimeError(
                f"{who}: a leaf tensor that requires grad (shape {t.shape}) cannot be changed "
                f"in place while gradients are recorded; do it inside `with tinygan.no_grad():`"
                f" (as initialisation and weight clipping do)")
        raise RuntimeError(
            f"{who}: the tensor of shape {t.shape} is part of a recorded graph (made by "
            f"{type(t._ctx).__name__}); changing it in place would corrupt the gradient. Use "
            f"the out-of-place form (x = x.op(...)) instead")


def _array_like(t: Tensor, value):
    """``value`` (number, array or Tensor) as an array on ``t``'s device in ``t``'s dtype."""
    mod = B.array_module(t.data)
    if isinstance(value, Tensor):
        value = value.data
    if B.is_array(value):
        value = _move_array(value, mod)
        return value.astype(t.dtype, copy=False) if value.dtype != t.dtype else value
    if isinstance(value, (int, float, bool, D.generic)):
        return value.item() if isinstance(value, D.generic) else value
    return mod.asarray(value, dtype=t.dtype)


def _write(t: Tensor, array) -> Tensor:
    """``t.data[...] = array`` — the data is changed, not rebound, so views see it."""
    t.data[...] = array
    t._bump_version()
    return t


def _inplace(name, compute):
    def method(self, *args, **kwargs):
        _check_inplace(self, name)
        return _write(self, compute(self, *args, **kwargs))
    method.__name__ = name
    return method


def _fill(self, value):
    return _array_like(self, value)


def _setitem(self, index, value):
    """``x[index] = value`` in place, under the rules of the in-place methods above."""
    _check_inplace(self, "x[index] = value")
    self.data[index_arrays(index)] = _array_like(self, value)
    self._bump_version()


def _zero(self):
    return 0


def _copy(self, src, non_blocking=False):
    src = _array_like(self, src)
    if B.is_array(src) and tuple(src.shape) != self.shape:
        if not _broadcasts(tuple(src.shape), self.shape):
            raise ValueError(f"copy_: source of shape {tuple(src.shape)} cannot be broadcast "
                             f"to the destination's shape {self.shape}")
    return src


def _broadcasts(small, big):
    return len(small) <= len(big) and builtins.all(
        s == b or s == 1 for s, b in zip(small[::-1], big[::-1]))


def _random_like(t: Tensor, draw, generator, who):
    """Random numbers drawn by the seeded generator of the active backend (or ``generator``'s,
    a tinygan.Generator), moved to t's device (so ``manual_seed`` governs them wherever the
    tensor lives)."""
    draws = draw(t.shape, dtype=t.dtype if t.dtype.kind == "f" else None,
                 gen=backend_rng(generator, who))
    return _move_array(draws, B.array_module(t.data))


def _normal(self, mean=0.0, std=1.0, *, generator=None):
    return _random_like(self, B.randn, generator, "normal_") * std + mean


def _uniform(self, a=0.0, b=1.0, *, generator=None):
    return _random_like(self, B.rand, generator, "uniform_") * (b - a) + a


def _clamp_inplace(self, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp_: give min=, max= or both")
    lo = min.data if isinstance(min, Tensor) else min
    hi = max.data if isinstance(max, Tensor) else max
    return B.array_module(self.data).clip(self.data, lo, hi)


def _resize(self, *sizes):
    """``resize_``: the tensor takes shape ``sizes``; its values are kept when the element
    count is unchanged, else it becomes zeros (PyTorch leaves them uninitialised)."""
    _check_inplace(self, "resize_")
    shape = _shape_args(sizes, "resize_")
    n = 1
    for s in shape:
        n *= s
    mod = B.array_module(self.data)
    self.data = self.data.reshape(shape) if n == self.numel() else mod.zeros(shape, self.dtype)
    self._bump_version()
    return self


def _resize_as(self, other):
    return _resize(self, other.shape)


def _binary_inplace(op):
    def compute(self, other, alpha=None):
        other = _array_like(self, other)
        if alpha is not None:
            other = other * alpha
        result = op(self.data, other)
        if tuple(result.shape) != self.shape:
            raise ValueError(f"in-place op: the result's shape {tuple(result.shape)} differs "
                             f"from the tensor's {self.shape} (broadcasting may not grow it)")
        return result
    return compute


# ---------------------------------------------------------------- operators
def _swap(fn):
    return lambda self, other: fn(other, self)


def _rpow(self, base):
    return exp(log(as_tensor(base, self)) * self)


def _float(self):
    return cast(self, D.float32)


def _double(self):
    return cast(self, D.float64)


def _cpu(self):
    return to_device(self, "cpu")


def _cuda(self, device=None):
    return to_device(self, "cuda")


def _dtype_cast(dtype):
    def method(self):
        return cast(self, dtype)
    return method


def _scalar_of(kind):
    def convert(self):
        if self.numel() != 1:
            raise TypeError(f"only one-element tensors can be converted to Python scalars, "
                            f"got shape {self.shape}")
        return kind(self.item())
    return convert


def _astype(self, dtype):
    return cast(self, dtype_of(dtype, "astype()"))


def install():
    """Bind operators and methods to Tensor (called once by ``tinygan.ops``)."""
    T = Tensor
    T.__add__, T.__radd__ = add, _swap(add)
    T.__sub__, T.__rsub__ = sub, _swap(sub)
    T.__mul__, T.__rmul__ = mul, _swap(mul)
    T.__truediv__, T.__rtruediv__ = div, _swap(div)
    T.__pow__, T.__rpow__ = pow, _rpow
    T.__matmul__, T.__rmatmul__ = matmul, _swap(matmul)
    T.__neg__, T.__abs__ = neg, abs
    T.__getitem__ = _getitem
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = lt, le, gt, ge
    T.__eq__, T.__ne__ = eq, ne
    T.lt, T.le, T.gt, T.ge, T.eq, T.ne = lt, le, gt, ge, eq, ne  # x.gt(y) as torch
    T.square, T.type_as = _square, _type_as
    # arithmetic methods
    T.add, T.sub, T.mul, T.div, T.pow, T.neg, T.matmul = add, sub, mul, div, pow, neg, matmul
    T.exp, T.log, T.sqrt, T.abs = exp, log, sqrt, abs
    T.relu, T.tanh, T.sigmoid = relu, tanh, sigmoid
    T.clamp, T.clip, T.norm = clamp, clamp, norm
    # reductions
    T.sum, T.mean, T.var, T.std = _sum, _mean, _var, _std
    T.max, T.min = _extremum_method(True), _extremum_method(False)
    T.argmax, T.argmin = argmax, argmin
    # shapes
    T.amax, T.amin = _amax_method(True), _amax_method(False)
    T.logsumexp = _logsumexp_method
    T.isfinite, T.isnan, T.all, T.any = (_test_method(n) for n in
                                         ("isfinite", "isnan", "all", "any"))
    T.softmax, T.log_softmax = _softmax_method, _log_softmax_method
    T.mm, T.bmm = mm, bmm
    T.rsqrt, T.sign, T.lerp, T.masked_fill = rsqrt, sign, lerp, masked_fill
    T.split, T.chunk = split, chunk
    T.gather = lambda self, dim, index: gather(self, dim, index)
    T.sort, T.topk = sort, topk
    T.flip = lambda self, *dims: flip(self, _shape_args(dims, "flip"))
    T.cumsum = lambda self, dim: cumsum(self, dim)
    T.view, T.reshape, T.flatten = _view, _reshape, _flatten_method
    T.unflatten, T.__setitem__ = _unflatten_method, _setitem
    T.view_as = lambda self, other: reshape(self, other.shape)
    T.reshape_as = T.view_as
    T.transpose, T.permute, T.t = _transpose_method, _permute, _t
    T.T = property(lambda self: transpose(self))
    T.squeeze, T.unsqueeze = _squeeze_method, _unsqueeze_method
    T.expand, T.expand_as, T.repeat = _expand, _expand_as, _repeat
    T.contiguous = lambda self, memory_format=None: self
    # copies, dtypes, devices
    T.__float__, T.__int__ = _scalar_of(float), _scalar_of(int)
    T.clone = _clone
    T.astype, T.type, T.to = _astype, _type, _to
    T.float, T.double = _float, _double
    T.long, T.int, T.bool = (_dtype_cast(D.int64), _dtype_cast(D.int32),
                             _dtype_cast(D.bool_))
    T.cpu, T.cuda = _cpu, _cuda
    T.new_zeros, T.new_ones = _new_factory(0), _new_factory(1)
    T.new_empty = T.new_zeros  # zeros: tinygan never hands out uninitialised memory
    T.new_full, T.new_tensor = _new_full, _new_tensor
    # in place
    T.fill_ = _inplace("fill_", _fill)
    T.zero_ = _inplace("zero_", _zero)
    T.copy_ = _inplace("copy_", _copy)
    T.normal_ = _inplace("normal_", _normal)
    T.uniform_ = _inplace("uniform_", _uniform)
    T.clamp_ = T.clip_ = _inplace("clamp_", _clamp_inplace)
    T.add_ = _inplace("add_", _binary_inplace(lambda a, b: a + b))
    T.sub_ = _inplace("sub_", _binary_inplace(lambda a, b: a - b))
    T.mul_ = _inplace("mul_", _binary_inplace(lambda a, b: a * b))
    T.div_ = _inplace("div_", _binary_inplace(lambda a, b: a / b))
    T.resize_, T.resize_as_ = _resize, _resize_as
