"""Small helpers shared by the ops: turning scalars into tensors, shape checks."""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor


def as_tensor(x, like: Tensor) -> Tensor:
    """``x`` as a Tensor on ``like``'s device; Python numbers take ``like``'s dtype
    (so ``x * 2.0`` stays float32)."""
    if isinstance(x, Tensor):
        return x
    if B.is_array(x):
        return Tensor(x)
    mod = B.array_module(like.data)
    dtype = like.dtype if like.dtype.kind == "f" else None
    return Tensor._make(mod.asarray(x, dtype=dtype), False, None)


# Below this many elements per thread an elementwise pass stays on one thread: the
# hand-off to the pool (~0.07 ms for two threads, ops/linalg.py) costs more than a
# NumPy pass over 2^16 float32 values saves (~0.03 ms on this project's machines).
THREAD_MIN_ELEMENTS = 1 << 16


def batch_slices_for_threads(array):
    """[(start, stop), …]: one slice of ``array``'s first axis per host thread, as equal
    as they can be, or None to run on one thread (one thread set, not the NumPy
    backend, or too few elements per thread to pay for the hand-off)."""
    threads = B.host_threads()
    n = array.shape[0] if array.ndim else 0
    if (threads <= 1 or n < 2 or B.array_module(array).__name__ != "numpy"
            or array.size < threads * THREAD_MIN_ELEMENTS):
        return None
    return even_slices(n, min(threads, n))


# A plain elementwise pass (an activation, an add, Adam's update) does less work per
# element than a batch-norm or im2col pass, so it splits only from 2^17 elements per
# thread: at 2^16 (the 2-D toy's 256 × 512 activations) the hand-off cost more than it
# saved (workload (f) of benchmarks/bench_steps.py 6 % slower at 2 threads; the DCGAN-28
# step, whose activations hold 4–8 × 10^5 elements, 7 % faster; benchmarks/README.md).
ELEMENTWISE_MIN_ELEMENTS = 1 << 17

# An elementwise pass is cut into up to this many slices per thread: with more slices
# than threads, a thread the OS deschedules (another process wants its core) holds back
# at most a small part of the pass, since the others claim the rest (parallel_for).
SLICES_PER_THREAD = 2


def elementwise_on_threads(kernel, *arrays):
    """``kernel(*parts)`` on matching slices of same-shape ``arrays``, on the host threads.

    ``kernel`` writes its result into one of the arrays with ``out=`` and computes each
    element from the same element of the others only, so any split gives the serial
    pass's bits.  The arrays are cut flat when all are C-contiguous, else along the
    first axis; up to SLICES_PER_THREAD slices per thread, each of at least
    ELEMENTWISE_MIN_ELEMENTS.  With one thread set, another backend than NumPy, or too few
    elements, ``kernel(*arrays)`` runs once.
    """
    elementwise_jobs_on_threads([(kernel, arrays)])


def elementwise_jobs_on_threads(jobs):
    """Each ``kernel(*arrays)`` of ``jobs`` = [(kernel, arrays), ...], as
    elementwise_on_threads runs one, all in one hand-off to the host threads.

    An optimizer's step is one such list, one job per parameter: the small parameters
    (biases, batch-norm scales) then share the threads with the slices of the large ones,
    where one hand-off per large parameter left them on the calling thread.  The jobs
    must write disjoint arrays.  They split when their elements add up to what one
    elementwise pass needs (split_pays); each is cut by the same rule as one pass, so
    the bits are the serial loop's."""
    sizes = [arrays[0].size for _, arrays in jobs]
    if not jobs or not _split_pays(jobs[0][1][0], sum(sizes)):
        for kernel, arrays in jobs:
            kernel(*arrays)
        return
    threads, pieces = B.host_threads(), []
    for (kernel, arrays), size in zip(jobs, sizes):
        if all(a.flags.c_contiguous for a in arrays):
            arrays = tuple(a.reshape(-1) for a in arrays)  # views: contiguous
        n = arrays[0].shape[0]
        parts = max(1, min(threads * SLICES_PER_THREAD, size // ELEMENTWISE_MIN_ELEMENTS, n))
        pieces += [(kernel, arrays, i, j) for i, j in even_slices(n, parts)]

    def run(k):
        kernel, arrays, i, j = pieces[k]
        kernel(*(a[i:j] for a in arrays))

    B.parallel_for(run, len(pieces))


def split_pays(array) -> bool:
    """Whether an elementwise pass over ``array`` runs on more than one host thread: more
    than one set, the NumPy backend, and ELEMENTWISE_MIN_ELEMENTS per thread for two."""
    return _split_pays(array, array.size)


def _split_pays(array, size) -> bool:
    return (B.host_threads() > 1 and size >= 2 * ELEMENTWISE_MIN_ELEMENTS
            and B.array_module(array).__name__ == "numpy")


def map_on_threads(fn, *inputs):
    """``fn(*inputs, out=out)`` into a new array shaped (and laid out) as ``inputs[0]``,
    computed on slices on the host threads (elementwise_on_threads): ``fn`` must be
    elementwise, e.g. ``numpy.add`` for two arrays of one shape and dtype."""
    out = B.array_module(inputs[0]).empty_like(inputs[0])
    elementwise_on_threads(lambda o, *xs: fn(*xs, out=o), out, *inputs)
    return out


def channel_rows(a):
    """``a`` (N, C, *spatial) as an (N·H·W, C) matrix view when its memory is
    channels-last (every conv output here, and an (N, C) array itself), else None."""
    rows = a.transpose((0,) + tuple(range(2, a.ndim)) + (1,))
    return rows.reshape(-1, a.shape[1]) if rows.flags.c_contiguous else None


# Per-channel sums over (N, H, W) on the (N·H·W, C) matrix: einsum sums along the rows,
# where NumPy's sum over the strided axes walks one C-long run at a time (0.46 ms
# against 0.59 on DCGAN-28's 64×64×14×14 activation, cold caches, 2-core AMD EPYC).
def channel_sum(a):
    """Σ of ``a`` (N, C, *spatial) over every axis but the channel axis 1, shape (C,)."""
    rows = channel_rows(a)
    if rows is None:
        return a.sum(axis=(0,) + tuple(range(2, a.ndim)))
    return B.array_module(a).einsum("ij->j", rows)


def even_slices(n, parts):
    """``parts`` consecutive (start, stop) slices of range(n), as equal as they can be
    (lengths differ by at most one), so threads given one each finish together."""
    return [(p * n // parts, (p + 1) * n // parts) for p in range(parts)]


def sum_in_order(count, partial_sums):
    """The sums over k = 0 … count − 1 of ``partial_sums(k)`` (a tuple of arrays per k),
    the partials computed on the host threads (backend.parallel_for) and added in k
    order, so the bits depend only on ``count``, never on which thread finished first."""
    parts = [None] * count

    def run(k):
        parts[k] = partial_sums(k)

    B.parallel_for(run, count)
    totals = list(parts[0])
    for part in parts[1:]:
        for total, term in zip(totals, part):
            total += term
    return totals


def constant(array) -> Tensor:
    """A Tensor that is never differentiated (masks, signs)."""
    return Tensor._make(array, False, None)


def normalize_axis(axis, ndim, who):
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {a} is out of range for a tensor with {ndim} dims")
        out.append(a % ndim)
    return tuple(sorted(out))


def resolve_reduction(dim, keepdim, axis, keepdims, who):
    """PyTorch's ``dim=`` / ``keepdim=`` with NumPy's ``axis=`` / ``keepdims=`` as aliases."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{who}: give dim= or its alias axis=, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(dim, list):
        dim = tuple(dim)
    return dim, bool(keepdim)
