"""Matrix multiplication (2-D and batched, with broadcasting of batch dims)."""
from __future__ import annotations

from .. import backend as B
from ..autograd import Function, Tensor
from ._util import even_slices
from .shape import sum_to, swapaxes


# A 2-D product of at least this many multiply-adds is split across the host
# threads (backend.parallel_for); below it the hand-off and the thinner blocks (a
# 128-row GEMM runs ~10 % slower per multiply-add than a 256-row one) cost more than
# the second thread saves.  Measured on the 2-core Xeon (1 thread / 2 threads):
# 256×256×256 (16.8M) 311 / 328 µs, 256×512×512 (67M) 1321 / 1067 µs, 64×1024×784
# (51M) 1357 / 969 µs; so the 3 × 256 toy recipes' products stay whole (their run was
# 1.17× slower at 2 threads with 2^23) and the 3 × 512 ones split.
THREAD_MIN_MACS = 1 << 25


def matmul_array(a, b):
    """a @ b on arrays; a large 2-D NumPy product is split across the host threads
    (:func:`matmul_arrays` of one product)."""
    return matmul_arrays([(a, b)])[0]


def matmul_arrays(pairs):
    """[a @ b for (a, b) in pairs] on arrays, the products computed together on the host
    threads when their multiply-adds add up to THREAD_MIN_MACS.

    The threads are shared out among the products in proportion to their work; a
    product given p > 1 threads is cut along the longer of M (rows of a) and N (columns
    of b) into p blocks, each written into its own part of the result by a one-thread
    BLAS call.  So the bits depend only on the thread count and the shapes, and two
    products on two threads (a Linear layer's input and weight gradients) each run
    whole, as on one thread: the same bits, and one full-height GEMM per thread, which
    took 1.56 ms for the pair 256×512×512 where splitting each took 1.88 ms (2-core
    AMD EPYC; benchmarks/README.md, workload (a))."""
    xp = B.array_module(pairs[0][0])
    threads = B.host_threads()
    macs = [a.shape[0] * a.shape[1] * b.shape[1] if a.ndim == 2 and b.ndim == 2 else 0
            for a, b in pairs]
    total = sum(macs)
    if (threads == 1 or xp.__name__ != "numpy" or not all(macs)
            or total < THREAD_MIN_MACS):
        return [_outer(a, b) if a.ndim == 2 == b.ndim and a.shape[1] == 1 else xp.matmul(a, b)
                for a, b in pairs]
    outs, blocks = [], []
    for (a, b), work in zip(pairs, macs):
        (m, _), n = a.shape, b.shape[1]
        outs.append(xp.empty((m, n), dtype=xp.result_type(a, b)))
        along_rows = m >= n
        length = m if along_rows else n
        parts = min(length, max(1, round(threads * work / total)))
        blocks += [(a, b, outs[-1], along_rows, i, j) for i, j in even_slices(length, parts)]

    def block(p):
        a, b, out, along_rows, i, j = blocks[p]
        if along_rows:
            xp.matmul(a[i:j], b, out=out[i:j])
        else:
            xp.matmul(a, b[:, i:j], out=out[:, i:j])

    B.parallel_for(block, len(blocks))
    return outs


def _outer(a, b):
    """a @ b for a (M, 1) and b (1, N): the broadcast product, the same single rounding
    per element.  A GEMM with K = 1 runs at a fraction of its speed: the input gradient
    of a Linear(·, 1) output layer, (64, 1) @ (1, 6272), took 633 µs as a product and
    45 µs as a * b (2-core AMD EPYC, one thread)."""
    return a * b


class MatMul(Function):
    """C = A @ B;  dA = dC @ Bᵀ,  dB = Aᵀ @ dC (summed over broadcast batch dims)."""

    def forward(self, a, b):
        return matmul_array(a, b)

    def backward(self, g):
        a, b = self.inputs
        ga = sum_to(matmul(g, swapaxes(b, -1, -2)), a.shape) if self.needs_input_grad[0] else None
        gb = sum_to(matmul(swapaxes(a, -1, -2), g), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


def matmul(a: Tensor, b: Tensor) -> Tensor:
    if not isinstance(a, Tensor):
        a = Tensor(a)
    if not isinstance(b, Tensor):
        b = Tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must have at least one dim, got shapes {a.shape} "
                         f"and {b.shape} (use * for a scalar)")
    if a.shape[-1] != b.shape[0 if b.ndim == 1 else -2]:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                         f"({a.shape[-1]} != {b.shape[0 if b.ndim == 1 else -2]})")
    if a.ndim == 1 or b.ndim == 1:
        # as torch.matmul / NumPy: a vector is a (1, n) row on the left, an (n, 1) column on
        # the right, and that dim is dropped from the result (vector · vector: a scalar)
        rows = a.reshape(1, -1) if a.ndim == 1 else a
        cols = b.reshape(-1, 1) if b.ndim == 1 else b
        out = matmul(rows, cols)
        shape = out.shape[:-2] + ((out.shape[-2],) if a.ndim > 1 else ()) + \
            ((out.shape[-1],) if b.ndim > 1 else ())
        return out.reshape(shape)
    for x, y in zip(a.shape[-3::-1], b.shape[-3::-1]):  # batch dims broadcast like NumPy
        if x != y and x != 1 and y != 1:
            raise ValueError(f"matmul: batch dims of shapes {a.shape} and {b.shape} cannot "
                             f"be broadcast together ({a.shape[:-2]} vs {b.shape[:-2]})")
    return MatMul.apply(a, b)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """PyTorch's ``torch.mm``: the product of two matrices (2-D only, no broadcasting)."""
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: expected two matrices, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """PyTorch's ``torch.bmm``: batches of matrices (B, n, m) @ (B, m, p) (3-D only, the
    same batch size, no broadcasting)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: expected (B, n, m) and (B, m, p) with one B, got shapes "
                         f"{a.shape} and {b.shape}")
    return matmul(a, b)
