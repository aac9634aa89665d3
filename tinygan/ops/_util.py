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
