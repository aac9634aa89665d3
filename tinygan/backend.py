"""The one module that chooses the array library.

Every other module asks this one for the array namespace (``xp()``), for the
default float dtype and for random numbers, instead of importing numpy or cupy
itself.  NumPy is the default; CuPy is selected by ``set_backend("cupy")`` or
the environment variable ``TINYGAN_BACKEND=cupy``.

Other array libraries join through :func:`register_backend`: the package's test
utilities register their CuPy stand-in (``"standin"``) that way when
``tinygan.testing`` is imported, so this module, the bottom layer, names
nothing above it.
"""
from __future__ import annotations

import contextlib
import os
import queue
import threading

import numpy

__all__ = [
    "set_backend", "get_backend", "xp", "array_module", "to_numpy", "to_device",
    "default_dtype", "set_default_dtype", "default_dtype_as", "manual_seed", "rng",
    "get_rng_state", "set_rng_state", "as_strided", "scatter_add", "is_array",
    "BackendError", "tune_host_allocator", "set_num_threads", "register_backend",
    "available_backends", "seed_stream", "num_threads", "array_namespace",
    "host_threads", "parallel_for", "pause_pool", "pool_paused",
]


class BackendError(RuntimeError):
    """Raised when a backend is unknown or cannot be used on this machine."""


_state = {"name": "numpy", "module": numpy, "dtype": numpy.float32, "rng": {}}
# name -> (array module, its ndarray type); numpy and cupy are built in (cupy loaded lazily)
_REGISTERED = {}


def register_backend(name: str, module, array_type) -> None:
    """Make ``module`` selectable as ``set_backend(name)``.

    ``module`` offers the NumPy-compatible namespace the engine uses (``zeros``,
    ``exp``, ``random.default_rng``, ``lib.stride_tricks.as_strided``,
    ``scatter_add`` ...); ``array_type`` is its array class, by which
    :func:`array_module` recognises its arrays.
    """
    name = str(name).lower()
    if name in ("numpy", "cupy"):
        raise BackendError(f"register_backend: {name!r} is built in")
    _REGISTERED[name] = (module, array_type)
    if _PENDING[0] == name:  # TINYGAN_BACKEND named it before it registered
        _PENDING[0] = None
        set_backend(name)


def available_backends() -> tuple:
    """Names :func:`set_backend` accepts (cupy only works where CuPy and a GPU are)."""
    return ("numpy", "cupy") + tuple(_REGISTERED)


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
    if name in _REGISTERED:
        return _REGISTERED[name][0]
    hint = " (the test stand-in registers itself on `import tinygan.testing`)" \
        if name == "standin" else ""
    raise BackendError(f"unknown backend {name!r}; choose one of "
                       f"{', '.join(available_backends())}{hint}")


def array_namespace(name: str):
    """The array module of backend ``name`` without selecting it (loads CuPy on first use;
    a :class:`BackendError` where it cannot be used)."""
    return _load(str(name).lower())


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
    """The backend name owning array ``a``, or None for what is not an array of a backend."""
    if isinstance(a, numpy.ndarray):
        return "numpy"
    for name, (_, array_type) in _REGISTERED.items():
        if isinstance(a, array_type):
            return name
    if type(a).__module__.startswith("cupy") and type(a).__name__ == "ndarray":
        return "cupy"
    return None


def array_module(a):
    """The namespace that owns array ``a`` (so ops on existing arrays stay on their device)."""
    kind = _kind(a)
    if kind == "cupy":
        import cupy
        return cupy
    if kind in _REGISTERED:
        return _REGISTERED[kind][0]
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


def seed_stream(*keys: int) -> None:
    """Seed every backend's generator from a tuple of integers, e.g. (run seed, step).

    A training run calls this before each generator iteration, so that the
    iteration's random draws (z, instance noise, interpolation ε) depend only on
    (seed, step): a resumed run reproduces them on every backend without saving
    generator state, which CuPy cannot export.  The keys go through NumPy's
    SeedSequence, so nearby steps give independent streams.
    """
    entropy = numpy.random.SeedSequence([int(k) for k in keys]).generate_state(2, numpy.uint32)
    manual_seed(int(entropy[0]) | (int(entropy[1]) << 32) & 0x7FFFFFFFFFFFFFFF)


def make_rng(name, module, seed):
    """A new generator of backend ``name`` (array module ``module``) seeded with ``seed``."""
    if name == "cupy":
        # CuPy's legacy RandomState offers normal/uniform/permutation with dtype control.
        return module.random.RandomState(seed)
    return module.random.default_rng(seed)  # NumPy's Generator API (numpy, registered ones)


def rng():
    """The seeded random generator of the active backend.

    The NumPy generator is ``numpy.random.Generator``; the CuPy one is
    ``cupy.random.RandomState``.  Use the backend-neutral helpers below
    (:func:`randn`, :func:`rand`, :func:`randint`, :func:`permutation`) rather
    than calling this directly.
    """
    name = _state["name"]
    gens = _state["rng"]
    if name not in gens:
        seed = _state.get("seed")
        if seed is None:
            seed = numpy.random.SeedSequence().entropy % (2 ** 32)
            _state["seed"] = seed
        gens[name] = make_rng(name, _state["module"], seed)
    return gens[name]


def initial_seed() -> int:
    """The seed the global stream was last started from (``manual_seed``, or drawn afresh for
    a stream never seeded, as its first draw would)."""
    rng()
    return _state["seed"]


def get_rng_state() -> dict:
    """JSON-able state of the NumPy generator (checkpoints store it for exact resume)."""
    name = _state["name"]
    gen = rng()
    if hasattr(gen, "bit_generator"):  # numpy and registered NumPy-like backends
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
        _state["rng"][name] = make_rng(name, _state["module"], state.get("seed"))


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


# Honour TINYGAN_BACKEND at import time; a registered backend's name (the stand-in)
# takes effect when it registers.
_env = os.environ.get("TINYGAN_BACKEND", "").lower()
_PENDING = [None]
if _env == "standin":
    _PENDING[0] = _env
elif _env:
    set_backend(_env)


# ---------------------------------------------------------------- random draws (backend-neutral)
def _is_cupy_rng(gen):
    return type(gen).__module__.split(".")[0] == "cupy"


# ``gen``: a generator of the active backend (``tinygan.Generator``'s), None for the global
# stream of ``manual_seed``.
def randn(shape, dtype=None, gen=None):
    """Standard-normal samples of ``shape`` on the active device."""
    dtype = dtype or default_dtype()
    return (gen or rng()).standard_normal(size=tuple(shape), dtype=dtype)


def host_randn(shape, *keys: int, dtype=None):
    """Standard-normal samples of ``shape`` drawn on the host by NumPy's
    ``default_rng(keys)`` and moved to the active device: the same numbers on every backend,
    and no backend generator drawn from (a fixed set of noise vectors, e.g. the one
    :class:`tinygan.gan.averaging.GeneratorEMA` measures its statistics on)."""
    draws = numpy.random.default_rng([int(k) for k in keys]).standard_normal(tuple(shape))
    return to_device(draws.astype(dtype or default_dtype()))


def rand(shape, dtype=None, gen=None):
    """Uniform [0, 1) samples of ``shape`` on the active device."""
    dtype = dtype or default_dtype()
    gen = gen or rng()
    if _is_cupy_rng(gen):
        return gen.random_sample(size=tuple(shape), dtype=dtype)
    return gen.random(size=tuple(shape), dtype=dtype)


def randint(low, high, shape, gen=None):
    """Uniform integers in [low, high) of ``shape`` on the active device."""
    gen = gen or rng()
    if _is_cupy_rng(gen):
        return gen.randint(low, high, size=tuple(shape))
    return gen.integers(low, high, size=tuple(shape))


def permutation(n, gen=None):
    """A random permutation of range(n) on the active device."""
    return (gen or rng()).permutation(int(n))


# ---------------------------------------------------------------- host runtime tuning
# Two process-wide settings of the CPU runtime underneath NumPy.  They change no
# numbers, only how fast the host side runs.

_MALLOC_TUNED = [None]      # result of the first tune_host_allocator() call
_THREAD_LIMITER = [None]    # the threadpoolctl limiter in force (set_num_threads)
_HOST_THREADS = [None]      # tinygan's own thread count (set_num_threads); None: never set


def tune_host_allocator() -> bool:
    """Let glibc's malloc keep and reuse freed large blocks (fewer page faults).

    What it does: ``mallopt(M_MMAP_THRESHOLD, 1 GiB)`` and
    ``mallopt(M_TRIM_THRESHOLD, 2 GiB − 1)`` on the C library's allocator.

    Why: a training step allocates and frees the same large arrays every time
    (im2col columns, activations, gradients).  By default glibc serves every
    block above a few MiB with a fresh ``mmap()`` and hands it back with
    ``munmap()`` on free, so every step touches brand-new pages and takes one
    page fault per 4 KiB page.  Measured for the DCGAN 28×28 step at batch
    128 (``benchmarks/bench_steps.py``, workload b128): about 17,000 faults and
    125 ms of kernel time per step, a quarter of the step; with this setting the blocks stay in the heap and are
    reused, CPU time per step fell from 462 to 350 ms (198 → 166 ms at batch 64).
    The price: memory freed by the process is kept for reuse rather than given
    back to the OS, so the resident size stays at the peak reached so far.

    Process-wide (it also affects PyTorch or anything else in the process).
    glibc (Linux) only: a no-op returning False elsewhere (macOS, Windows, musl),
    and when the environment variable ``TINYGAN_NO_MALLOC_TUNE=1`` is set.
    Idempotent; returns True when the setting is in force.  Device (CuPy)
    memory is not affected; CuPy has its own memory pool.
    """
    if os.environ.get("TINYGAN_NO_MALLOC_TUNE", "") not in ("", "0"):
        return False
    if _MALLOC_TUNED[0] is not None:
        return _MALLOC_TUNED[0]
    ok = False
    try:
        glibc = os.confstr("CS_GNU_LIBC_VERSION")  # e.g. "glibc 2.36"; fails off glibc
    except (AttributeError, ValueError, OSError):
        glibc = None
    if glibc and glibc.startswith("glibc"):
        try:
            import ctypes
            libc = ctypes.CDLL("libc.so.6")
            m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's <malloc.h>
            ok = libc.mallopt(m_mmap_threshold, 1 << 30) == 1
            ok = (libc.mallopt(m_trim_threshold, 2 ** 31 - 1) == 1) and ok
        except (OSError, AttributeError):
            ok = False
    _MALLOC_TUNED[0] = bool(ok)
    return _MALLOC_TUNED[0]


@contextlib.contextmanager
def num_threads(n):
    """Inside, tinygan's host kernels use ``n`` threads as :func:`set_num_threads` sets
    them (None: leave everything as it is); the previous setting is restored after."""
    if n is None:
        yield
        return
    import threadpoolctl

    from ._validate import positive_int
    n = positive_int(n, "n", "num_threads")
    before = _HOST_THREADS[0]
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        _HOST_THREADS[0] = n
        try:
            yield
        finally:
            _HOST_THREADS[0] = before


def set_num_threads(n: int) -> bool:
    """Run tinygan's CPU kernels on ``n`` threads: its own pool of ``n`` threads, with
    the BLAS (OpenBLAS/MKL) held to one thread inside each.

    Without this call NumPy's matrix products run on the BLAS library's own pool,
    sized to every core, and everything else on one core.  With it, tinygan splits
    its large products and its convolutions' batch slices (im2col copies, col2im
    adds) across ``n`` threads of its own (:func:`parallel_for`), each calling a
    one-thread BLAS.  Why not the BLAS's pool: its idle threads spin-wait for work,
    so (1) on a shared or loaded machine a spinning thread holds a core someone
    else needs and small products run 5–80× slower (measured on a 2-core host;
    benchmarks/README.md, "Thread pools under load"), and (2) between two BLAS
    calls its spinning thread takes the core tinygan's own threads want.  tinygan's
    pool threads sleep when idle.  The setting is process-wide and stays until the
    next call; results depend on ``n`` only through how products are split, and are
    the same bits on every run with the same ``n``.

    Uses threadpoolctl (a dependency) to reach the BLAS loaded by NumPy; returns
    True.  The GPU backend is unaffected.
    """
    import threadpoolctl

    from ._validate import positive_int
    n = positive_int(n, "n", "set_num_threads")
    if _THREAD_LIMITER[0] is not None:
        _THREAD_LIMITER[0].restore_original_limits()
    _THREAD_LIMITER[0] = threadpoolctl.threadpool_limits(limits=1, user_api="blas")
    _HOST_THREADS[0] = n
    return True


# ---------------------------------------------------------------- host worker pool
# NumPy runs each call on one core, except the BLAS inside matrix products.  The
# host kernels that carry a step's work (ops/conv.py's batch slices: im2col + GEMM,
# GEMM + col2im, the weight gradient's partial sums; ops/linalg.py's large
# products; ops/batchnorm.py's passes and per-channel sums) are split into independent pieces that parallel_for runs on
# set_num_threads' pool, so the copies and slice-adds around every GEMM use all
# cores too.  NumPy releases the GIL inside copies, ufunc loops and BLAS calls, so
# the threads do run at once.  Measured in benchmarks/README.md ("tinygan's own
# thread pool").

# The pool's threads, each waiting on its own queue.  A call hands each of them one job
# (parallel_for's claiming loop) and waits only while a claimed k is unfinished: 25–30 µs
# per two-thread hand-off, when each call waited on one lock per thread, against 44 µs
# through concurrent.futures' ThreadPoolExecutor (its Future and Condition per job) on the
# idle 2-core AMD EPYC of benchmarks/README.md ("A lighter pool"), 16 against 31 µs with
# its cores busy.
_POOL = {"queues": [], "pid": None}


def _pool_thread(jobs) -> None:
    while True:
        jobs.get()()


def _pool_queues(workers: int):
    """The job queues of at least ``workers`` persistent daemon threads (started on
    first need; a forked child, which inherits the list but not the threads, starts its
    own)."""
    if _POOL["pid"] != os.getpid():
        _POOL["queues"], _POOL["pid"] = [], os.getpid()
    queues = _POOL["queues"]
    while len(queues) < workers:
        jobs = queue.SimpleQueue()
        threading.Thread(target=_pool_thread, args=(jobs,), daemon=True,
                         name=f"tinygan-host-{len(queues) + 1}").start()
        queues.append(jobs)
    return queues[:workers]


def host_threads() -> int:
    """How many threads tinygan's host kernels use: :func:`set_num_threads`' ``n``
    (or :func:`num_threads`' inside it); 1 when neither was called."""
    return _HOST_THREADS[0] or 1


_POOL_PAUSED = [False]


def pause_pool(paused: bool = True) -> None:
    """With the pool paused, :func:`parallel_for` runs every index on the calling thread,
    in index order, and the pool's threads sleep.  The slicing stays what
    :func:`host_threads` makes it, so every result keeps its bits: pausing changes who
    computes, never what.  For a machine whose other cores are busy, where waiting for a
    descheduled pool thread makes a step slower than one thread
    (tinygan.gan.pool_tuner.PoolTuner pauses the pool while that is so)."""
    _POOL_PAUSED[0] = bool(paused)


def pool_paused() -> bool:
    return _POOL_PAUSED[0]


def parallel_for(body, count: int, workers: int = None) -> None:
    """Call ``body(k)`` for k = 0 … count − 1 on ``workers`` threads (default
    :func:`host_threads`); return when all are done.

    Each thread, the calling one among them, claims the next unclaimed k until none is
    left, so when the OS deschedules one thread (another process wants its core) the
    others take over its share: on a loaded machine the loop then costs about what it
    costs on one thread, instead of waiting for the slow thread's fixed share.
    ``body`` must write disjoint outputs for different k; then the result is the
    serial loop's, bit for bit, since each k runs the same operations whichever
    thread runs it.  An exception in any ``body(k)`` is raised here once every
    claimed k has finished (no thread claims a new k after it).
    """
    count = int(count)
    workers = min(count, host_threads() if workers is None else int(workers))
    if workers <= 1 or _POOL_PAUSED[0]:
        for k in range(count):
            body(k)
        return
    # ``busy`` counts the k claimed and not yet finished.  The calling thread returns when
    # none is left to claim and none is busy: it waits for a pool thread only while that
    # thread is inside a body(k), never for one the OS has not yet woken (that one, when it
    # runs, finds nothing to claim and stops).  With another process on the other core the
    # wake-up can take a time slice, which the call used to wait out at every hand-off.
    lock = threading.Lock()
    settled = threading.Condition(lock)
    state, errors = {"next": 0, "busy": 0}, []

    def claim(finished: bool):
        with lock:
            if finished:
                state["busy"] -= 1
                if not state["busy"]:
                    settled.notify_all()
            k = state["next"]
            if k >= count or errors:  # none after a failure
                return None
            state["next"], state["busy"] = k + 1, state["busy"] + 1
            return k

    def strand():
        k = claim(False)
        while k is not None:
            try:
                body(k)
            except BaseException as exc:  # noqa: B902 (raised by the calling thread below)
                errors.append(exc)
            k = claim(True)

    for jobs in _pool_queues(workers - 1):
        jobs.put(strand)
    strand()
    with settled:
        while state["busy"]:
            settled.wait()
    if errors:
        raise errors[0]
