"""The one module that chooses the array library.

Every other module asks this one for the array namespace (``xp()``), for the
default float dtype and for random numbers, instead of importing numpy or cupy
itself.  NumPy is the default; CuPy is selected by ``set_backend("cupy")`` or
the environment variable ``TINYGAN_BACKEND=cupy``.  The test-only stand-in
(``"standin"``, see :mod:`tinygan.testing.standin`) behaves like CuPy without a
GPU: its arrays refuse implicit conversion to NumPy, so a test run on it proves
that the engine makes no hidden host round-trips.
"""
from __future__ import annotations

import contextlib
import os

import numpy

__all__ = [
    "set_backend", "get_backend", "xp", "array_module", "to_numpy", "to_device",
    "default_dtype", "set_default_dtype", "default_dtype_as", "manual_seed", "rng",
    "get_rng_state", "set_rng_state", "as_strided", "scatter_add", "is_array",
    "BackendError",
]


class BackendError(RuntimeError):
    """Raised when a backend is unknown or cannot be used on this machine."""


_BACKENDS = ("numpy", "cupy", "standin")
_state = {"name": "numpy", "module": numpy, "dtype": numpy.float32, "rng": {}}


def _load(name: str):
    if name == "numpy":
        return numpy
    if name == "cupy":
        try:
            import cupy  # noqa: F401  (optional dependency)
        except Exception as exc:  # ImportError, or a broken CUDA install
            raise BackendError(
                "backend 'cupy' was requested but CuPy cannot be imported "
                f"({type(exc).__name__}: {exc}). Install it with "
                "`pip install tinygan[cuda]` (cupy-cuda12x) on a machine with an NVIDIA GPU, "
                "or use the default backend 'numpy'.") from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:
            raise BackendError(
                f"backend 'cupy' was requested but no CUDA GPU is usable ({exc}).") from None
        if count < 1:
            raise BackendError("backend 'cupy' was requested but no CUDA GPU is visible.")
        return cupy
    if name == "standin":
        from .testing import standin
        return standin
    raise BackendError(f"unknown backend {name!r}; choose one of {', '.join(_BACKENDS)}")


def set_backend(name: str) -> None:
    """Select the array library used for new tensors: 'numpy' (default) or 'cupy'."""
    name = str(name).lower()
    module = _load(name)
    _state["name"], _state["module"] = name, module


def get_backend() -> str:
    """Name of the active backend."""
    return _state["name"]


def xp():
    """The active array namespace (numpy, cupy or the stand-in)."""
    return _state["module"]


def _kind(a):
    """'numpy', 'cupy', 'standin' or None for what is not an array of a backend."""
    if isinstance(a, numpy.ndarray):
        return "numpy"
    mod = type(a).__module__
    if mod == "tinygan.testing.standin" and type(a).__name__ == "ndarray":
        return "standin"
    if mod.startswith("cupy") and type(a).__name__ == "ndarray":
        return "cupy"
    return None


def array_module(a):
    """The namespace that owns array ``a`` (so ops on existing arrays stay on their device)."""
    kind = _kind(a)
    if kind == "cupy":
        import cupy
        return cupy
    if kind == "standin":
        from .testing import standin
        return standin
    return numpy


def is_array(a) -> bool:
    """True for an array of any backend (not a Python or NumPy scalar)."""
    return _kind(a) is not None


def to_numpy(a):
    """Copy an array of any backend to a host NumPy array (the explicit transfer)."""
    if isinstance(a, numpy.ndarray):
        return a
    if hasattr(a, "get"):  # cupy.ndarray and the stand-in both expose .get()
        return a.get()
    return numpy.asarray(a)


def to_device(a, dtype=None):
    """Move host data (NumPy array, list, scalar) to the active backend's device."""
    mod = xp()
    if is_array(a) and array_module(a) is not numpy and array_module(a) is not mod:
        a = to_numpy(a)
    out = mod.asarray(a) if dtype is None else mod.asarray(a, dtype=dtype)
    return out


# ---------------------------------------------------------------- dtypes
def default_dtype():
    """Float dtype for new tensors: float32 unless changed (gradient checks use float64)."""
    return _state["dtype"]


def set_default_dtype(dtype) -> None:
    dtype = numpy.dtype(dtype)
    if dtype not in (numpy.float32, numpy.float64):
        raise ValueError(f"default dtype must be float32 or float64, got {dtype}")
    _state["dtype"] = dtype.type


@contextlib.contextmanager
def default_dtype_as(dtype):
    """Temporarily use another default float dtype (e.g. float64 in gradient checks)."""
    old = _state["dtype"]
    set_default_dtype(dtype)
    try:
        yield
    finally:
        _state["dtype"] = old


# ---------------------------------------------------------------- randomness
def manual_seed(seed: int) -> None:
    """Seed the random generator of every backend (one generator per backend)."""
    _state["seed"] = int(seed)
    _state["rng"] = {}


def _make_rng(name, module, seed):
    if name == "numpy":
        return numpy.random.default_rng(seed)
    if name == "standin":
        return module.random.default_rng(seed)
    # CuPy's legacy RandomState offers normal/uniform/permutation with dtype control.
    return module.random.RandomState(seed)


def rng():
    """The seeded random generator of the active backend.

    The NumPy generator is ``numpy.random.Generator``; the CuPy one is
    ``cupy.random.RandomState``.  Use the backend-neutral helpers in
    :mod:`tinygan.random` rather than calling this directly.
    """
    name = _state["name"]
    gens = _state["rng"]
    if name not in gens:
        seed = _state.get("seed")
        if seed is None:
            seed = numpy.random.SeedSequence().entropy % (2 ** 32)
            _state["seed"] = seed
        gens[name] = _make_rng(name, _state["module"], seed)
    return gens[name]


def get_rng_state() -> dict:
    """JSON-able state of the NumPy generator (checkpoints store it for exact resume)."""
    name = _state["name"]
    gen = rng()
    if name in ("numpy", "standin"):
        return {"backend": name, "bit_generator": _jsonable(gen.bit_generator.state)}
    return {"backend": name, "seed": _state.get("seed")}


def set_rng_state(state: dict) -> None:
    name = _state["name"]
    gen = rng()
    if state.get("backend") != name:
        raise BackendError(f"RNG state was saved with backend {state.get('backend')!r}, "
                           f"active backend is {name!r}")
    if "bit_generator" in state:
        gen.bit_generator.state = state["bit_generator"]
    else:  # CuPy: best effort, reseed
        _state["rng"][name] = _make_rng(name, _state["module"], state.get("seed"))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, numpy.ndarray):
        return obj.tolist()
    if isinstance(obj, numpy.integer):
        return int(obj)
    return obj


# ---------------------------------------------------------------- backend-specific primitives
def as_strided(a, shape, strides):
    """A strided view of ``a`` (no copy): the heart of im2col."""
    mod = array_module(a)
    if mod is numpy:
        return numpy.lib.stride_tricks.as_strided(a, shape=shape, strides=strides, writeable=False)
    return mod.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)


def scatter_add(target, index, values) -> None:
    """``target[index] += values`` with repeated indices accumulated (unbuffered)."""
    mod = array_module(target)
    if mod is numpy:
        numpy.add.at(target, index, values)
    elif mod.__name__ == "cupy":
        import cupyx
        cupyx.scatter_add(target, index, values)
    else:
        mod.scatter_add(target, index, values)


# Honour TINYGAN_BACKEND at import time.
_env = os.environ.get("TINYGAN_BACKEND")
if _env:
    set_backend(_env)


# ---------------------------------------------------------------- random draws (backend-neutral)
def _is_cupy_rng(gen):
    return type(gen).__module__.split(".")[0] == "cupy"


def randn(shape, dtype=None):
    """Standard-normal samples of ``shape`` on the active device."""
    dtype = dtype or default_dtype()
    return rng().standard_normal(size=tuple(shape), dtype=dtype)


def rand(shape, dtype=None):
    """Uniform [0, 1) samples of ``shape`` on the active device."""
    dtype = dtype or default_dtype()
    gen = rng()
    if _is_cupy_rng(gen):
        return gen.random_sample(size=tuple(shape), dtype=dtype)
    return gen.random(size=tuple(shape), dtype=dtype)


def randint(low, high, shape):
    """Uniform integers in [low, high) of ``shape`` on the active device."""
    gen = rng()
    if _is_cupy_rng(gen):
        return gen.randint(low, high, size=tuple(shape))
    return gen.integers(low, high, size=tuple(shape))


def permutation(n):
    """A random permutation of range(n) on the active device."""
    return rng().permutation(int(n))
