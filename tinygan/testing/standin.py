"""A CuPy stand-in for machines without a GPU (test-only backend ``"standin"``).

CI has no GPU, yet the CuPy path must stay free of hidden host round-trips.
This module mimics the part of CuPy's contract that catches them:

* its ``ndarray`` wraps a NumPy array but **refuses implicit conversion**:
  ``numpy.asarray(a)`` raises ``TypeError`` (CuPy's own message), and so does
  any NumPy function or ufunc applied to it (``numpy.exp(a)``, ``numpy.sum(a)``);
* mixing it with a host ``numpy.ndarray`` in arithmetic, indexing or a
  function call raises ``TypeError`` (CuPy raises too: data must be moved
  explicitly with ``asarray`` / ``.get()``);
* the module offers the NumPy-compatible functions the engine uses
  (``standin.exp``, ``standin.zeros``, ``standin.random.default_rng``,
  ``standin.lib.stride_tricks.as_strided`` ...), computing with NumPy on the host.

Reductions return 0-d arrays (as CuPy does), not NumPy scalars.  Python
scalars and NumPy scalars mix freely, as in CuPy.  Use it with
``tinygan.set_backend("standin")``; the ``backend`` test fixture runs tests on it.
"""
from __future__ import annotations

import operator
import types

import numpy as _np

_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
             "construct a NumPy array explicitly.")


def _refuse_host(where):
    raise TypeError(f"standin (CuPy-like) {where}: got a host numpy.ndarray; move it to the "
                    f"device explicitly with xp.asarray(...) first")


def _unwrap(x, where):
    """Stand-in arrays → their NumPy data; refuse host arrays; recurse into tuples/lists."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, _np.ndarray):
        _refuse_host(where)
    if isinstance(x, tuple):
        return tuple(_unwrap(i, where) for i in x)
    if isinstance(x, list):
        return [_unwrap(i, where) for i in x]
    return x


def _wrap(x):
    if isinstance(x, _np.ndarray):
        return ndarray(x)
    if isinstance(x, _np.generic) and not isinstance(x, (_np.str_, _np.bytes_)):
        return ndarray(_np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(i) for i in x)
    if isinstance(x, list):
        return [_wrap(i) for i in x]
    return x


class ndarray:  # noqa: N801 - mirrors cupy.ndarray
    """Device-array stand-in: NumPy inside, CuPy's conversion rules outside."""

    __slots__ = ("_a",)
    __array_priority__ = 1000

    def __init__(self, data):
        if not isinstance(data, _np.ndarray):
            raise TypeError("standin.ndarray wraps a numpy.ndarray; use standin.asarray")
        self._a = data

    # ---- the refusals that make hidden transfers fail loudly
    def __array__(self, *args, **kwargs):
        raise TypeError(_IMPLICIT)

    def __array_function__(self, func, types_, args, kwargs):
        raise TypeError(f"numpy.{func.__name__}() was applied to a standin (CuPy-like) "
                        f"array; use the backend namespace instead")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        raise TypeError(f"numpy.{ufunc.__name__} was applied to a standin (CuPy-like) "
                        f"array; use the backend namespace instead")

    # ---- explicit transfer and scalars (CuPy allows these; they synchronise)
    def get(self):
        return self._a.copy()

    def item(self):
        return self._a.item()

    def tolist(self):
        return self._a.tolist()

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return operator.index(self._a)

    def __bool__(self):
        return bool(self._a)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __repr__(self):
        return "standin." + repr(self._a)

    # ---- metadata
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray(self._a.T))
    base = property(lambda self: None if self._a.base is None else _wrap(self._a.base))

    # ---- indexing
    def __getitem__(self, index):
        return _wrap(self._a[_unwrap(index, "indexing")])

    def __setitem__(self, index, value):
        self._a[_unwrap(index, "indexing")] = _unwrap(value, "assignment")

    # ---- methods (reshape, sum, astype, ...) delegate to NumPy, results wrapped
    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__ / __array_struct__ back door
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if not callable(attr):
            return _wrap(attr)

        def method(*args, **kwargs):
            args = _unwrap(args, f"ndarray.{name}")
            kwargs = {k: _unwrap(v, f"ndarray.{name}") for k, v in kwargs.items()}
            return _wrap(attr(*args, **kwargs))
        method.__name__ = name
        return method

    def __copy__(self):
        return ndarray(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray(self._a.copy())


def _binary(op, name, reflected=False):
    def method(self, other):
        if isinstance(other, _np.ndarray):
            _refuse_host(f"operator {name}")
        if not isinstance(other, (ndarray, int, float, complex, bool, _np.generic)):
            return NotImplemented
        o = other._a if isinstance(other, ndarray) else other
        return _wrap(op(o, self._a) if reflected else op(self._a, o))
    method.__name__ = name
    return method


def _inplace(op, name):
    def method(self, other):
        if isinstance(other, _np.ndarray):
            _refuse_host(f"operator {name}")
        o = other._a if isinstance(other, ndarray) else other
        op(self._a, o)
        return self
    method.__name__ = name
    return method


for _name, _op in [("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv),
                   ("mod", operator.mod), ("pow", operator.pow), ("matmul", operator.matmul),
                   ("and", operator.and_), ("or", operator.or_), ("xor", operator.xor)]:
    setattr(ndarray, f"__{_name}__", _binary(_op, f"__{_name}__"))
    setattr(ndarray, f"__r{_name}__", _binary(_op, f"__r{_name}__", reflected=True))
    setattr(ndarray, f"__i{_name}__", _inplace(getattr(operator, f"i{_name}"), f"__i{_name}__"))
for _name, _op in [("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
                   ("ge", operator.ge), ("eq", operator.eq), ("ne", operator.ne)]:
    setattr(ndarray, f"__{_name}__", _binary(_op, f"__{_name}__"))
ndarray.__hash__ = None
ndarray.__neg__ = lambda self: _wrap(-self._a)  # 0-d: NumPy returns a scalar
ndarray.__pos__ = lambda self: _wrap(+self._a)
ndarray.__abs__ = lambda self: _wrap(abs(self._a))
ndarray.__invert__ = lambda self: _wrap(~self._a)


# ---------------------------------------------------------------- module namespace
def asarray(a, dtype=None, order=None):
    """Host data → device (the explicit transfer, like ``cupy.asarray``)."""
    if isinstance(a, ndarray):
        return a if dtype is None else a.astype(dtype, copy=False)
    return ndarray(_np.array(a, dtype=dtype, order=order, copy=True))


def array(a, dtype=None, copy=True, order="K", ndmin=0):
    if isinstance(a, ndarray):
        return ndarray(_np.array(a._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    return ndarray(_np.array(a, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asnumpy(a):
    """Device → host, like ``cupy.asnumpy``."""
    return a.get() if isinstance(a, ndarray) else _np.asarray(a)


def scatter_add(target, index, values):
    """``target[index] += values`` accumulating repeats (like ``cupyx.scatter_add``)."""
    _np.add.at(target._a, _unwrap(index, "scatter_add"), _unwrap(values, "scatter_add"))


def _wrap_function(fn, name):
    def function(*args, **kwargs):
        args = _unwrap(args, f"standin.{name}()")
        kwargs = {k: _unwrap(v, f"standin.{name}()") for k, v in kwargs.items()}
        return _wrap(fn(*args, **kwargs))
    function.__name__ = name
    function.__doc__ = f"Stand-in for cupy.{name} (computed with numpy.{name} on the host)."
    return function


def __getattr__(name):
    """Any other NumPy-compatible function, wrapped; dtypes and constants passed through."""
    try:
        attr = getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'standin' has no attribute {name!r}") from None
    if isinstance(attr, type) or not callable(attr):
        return attr
    return _wrap_function(attr, name)


class _Generator:
    """Seeded generator with NumPy's Generator API, returning device arrays."""

    def __init__(self, seed):
        self._g = _np.random.default_rng(seed)

    @property
    def bit_generator(self):
        return self._g.bit_generator

    def __getattr__(self, name):
        return _wrap_function(getattr(self._g, name), f"random.Generator.{name}")


random = types.SimpleNamespace(default_rng=_Generator)


def _as_strided(x, shape=None, strides=None):
    return ndarray(_np.lib.stride_tricks.as_strided(x._a, shape=shape, strides=strides))


lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(as_strided=_as_strided))
linalg = types.SimpleNamespace(**{n: _wrap_function(getattr(_np.linalg, n), f"linalg.{n}")
                                  for n in ("norm", "eigh", "svd", "inv", "solve", "det")})


def _register():
    """Make ``set_backend("standin")`` select this module (the backend names nothing above it)."""
    from .. import backend
    backend.register_backend("standin", _this_module(), ndarray)


def _this_module():
    import sys
    return sys.modules[__name__]


_register()
