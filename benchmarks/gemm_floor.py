"""GEMM floor of a training step: how much of tinygan's step is the conv GEMMs themselves.

Wraps the three array kernels of ``tinygan.ops.conv`` for a few steps of a
``bench_steps.py`` workload; inside each call it re-times that call's GEMM alone
(same operands as one whole-batch GEMM, same memory layout, best of 3, warm
cache) and adds up:

  conv functions   CPU time inside _conv_forward / _conv_weight_forward /
                   _columns_to_image (GEMM + im2col / col2im + copies)
  their GEMMs      the same GEMMs alone: the floor an im2col engine on this BLAS has

Run:  python benchmarks/gemm_floor.py b64      (workloads as in bench_steps.py; 1 thread)

The replays make the measured steps slower; only the per-kernel sums are reported.
"""
from __future__ import annotations

import collections
import os
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402
import bench_steps as BS  # noqa: E402
from tinygan.ops import conv as K  # noqa: E402


def _best(f, n=3):
    ts = []
    for _ in range(n):
        t0 = time.process_time()
        f()
        ts.append(time.process_time() - t0)
    return min(ts)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    name = argv[0] if argv else "b64"
    steps = 5
    C.set_threads(1)
    C.tune_malloc()
    kind, batch, desc = BS.WORKLOADS[name]
    step = BS.make_tinygan_step(kind, batch)[0]
    for _ in range(3):
        step()
    total, gemm, calls = (collections.defaultdict(float), collections.defaultdict(float),
                          collections.Counter())
    fwd, wgt, c2i = K._conv_forward, K._conv_weight_forward, K._columns_to_image

    def conv_forward(x, w, stride, padding, cols=None, keep=False):
        t0 = time.process_time()
        y, cols_out = fwd(x, w, stride, padding, cols, keep)
        total["conv2d forward: im2col + GEMM"] += time.process_time() - t0
        cols = cols_out if cols_out is not None else K._im2col(x, w.shape[2:], stride, padding,
                                                               y.shape[2:])
        wr = K._weight_rows(w)
        gemm["conv2d forward"] += _best(lambda: cols @ wr.T)
        calls["conv2d forward"] += 1
        return y, cols_out

    def conv_weight(x, gy, w_shape, stride, padding, cols=None, keep=False):
        t0 = time.process_time()
        dw, cols_out = wgt(x, gy, w_shape, stride, padding, cols, keep)
        total["conv2d weight grad: im2col + GEMM"] += time.process_time() - t0
        cols = cols_out if cols_out is not None else K._im2col(x, w_shape[2:], stride, padding,
                                                               gy.shape[2:])
        g = K._rows(gy)
        gemm["conv2d weight grad"] += _best(lambda: g.T @ cols)
        calls["conv2d weight grad"] += 1
        return dw, cols_out

    def columns_to_image(rows, wrows, n, in_hw, channels, *rest):
        t0 = time.process_time()
        out = c2i(rows, wrows, n, in_hw, channels, *rest)
        total["conv_transpose2d: GEMM + col2im"] += time.process_time() - t0
        if channels < K.CHANNELS_FIRST_BELOW:
            gemm["conv_transpose2d"] += _best(lambda: wrows.T @ rows.T)
        else:
            gemm["conv_transpose2d"] += _best(lambda: rows @ wrows)
        calls["conv_transpose2d"] += 1
        return out

    K._conv_forward, K._conv_weight_forward, K._columns_to_image = (
        conv_forward, conv_weight, columns_to_image)
    try:
        for _ in range(steps):
            step()
    finally:
        K._conv_forward, K._conv_weight_forward, K._columns_to_image = fwd, wgt, c2i
    print(f"({name}) {desc}, 1 thread, per step (CPU ms):")
    for k, v in total.items():
        print(f"   {k:36s} {v / steps * 1e3:7.1f}")
    for k, v in gemm.items():
        print(f"   GEMM alone, {k:24s} {v / steps * 1e3:7.1f}  ({calls[k] // steps} calls)")
    print(f"   conv functions {sum(total.values()) / steps * 1e3:.1f} ms, of which GEMMs "
          f"{sum(gemm.values()) / steps * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
