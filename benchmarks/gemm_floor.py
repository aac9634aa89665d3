"""GEMM floor of a training step: how much of tinygan's step is the conv GEMMs themselves.

Wraps the three array kernels of ``tinygan.ops.conv`` for a few steps of a
``bench_steps.py`` workload; inside each call it re-times that call's GEMM alone
(same operands as one whole-batch GEMM, same memory layout, best of 3, warm
cache) and adds up:

  conv functions   CPU time inside _conv_forward / _conv_weight_forward /
                   _columns_to_image (GEMM + im2col / col2im + copies)
  their GEMMs      the same GEMMs alone: the floor an im2col engine on this BLAS has

Run:  python benchmarks/gemm_floor.py b64      (workloads as in bench_steps.py; 1 thread)
      python benchmarks/gemm_floor.py c --steps 3

The replays make the measured steps slower; only the per-kernel sums are reported.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402
import bench_steps as BS  # noqa: E402
from tinygan.ops import conv as K  # noqa: E402


# bench_steps.py's workloads with convolutions ((a) and (f) are MLPs: no conv GEMMs)
CONV_WORKLOADS = [name for name, (kind, _, _) in BS.WORKLOADS.items()
                  if kind not in ("mlp", "wgangp2d")]


def _best(f, n=3):
    ts = []
    for _ in range(n):
        t0 = time.process_time()
        f()
        ts.append(time.process_time() - t0)
    return min(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description="How much of a tinygan training step is the "
                                 "conv GEMMs themselves (1 thread, CPU time).")
    ap.add_argument("workload", nargs="?", default="b64", choices=CONV_WORKLOADS,
                    help="a convolutional bench_steps.py workload (default: b64)")
    ap.add_argument("--steps", type=int, default=5, help="measured steps (default: 5)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default: 3)")
    args = ap.parse_args(argv)
    if args.steps < 1 or args.warmup < 0:
        ap.error("--steps must be >= 1 and --warmup >= 0")
    name, steps = args.workload, args.steps
    C.set_threads(1)
    C.tune_malloc()
    kind, batch, desc = BS.WORKLOADS[name]
    step = BS.make_tinygan_step(kind, batch)[0]
    for _ in range(args.warmup):
        step()
    total, gemm, calls = (collections.defaultdict(float), collections.defaultdict(float),
                          collections.Counter())
    fwd, wgt, c2i = K._conv_forward, K._conv_weight_forward, K._columns_to_image

    # The wrappers pass every argument on unchanged (*rest: cached columns, keep, bias),
    # so the kernels' signatures can grow without breaking this script.
    def conv_forward(x, w, stride, padding, *rest, **kw):
        t0 = time.process_time()
        y, cols_out = fwd(x, w, stride, padding, *rest, **kw)
        total["conv2d forward: im2col + GEMM"] += time.process_time() - t0
        cols = cols_out if cols_out is not None else K._im2col(x, w.shape[2:], stride, padding,
                                                               y.shape[2:])
        wr = K._weight_rows(w)
        gemm["conv2d forward"] += _best(lambda: cols @ wr.T)
        calls["conv2d forward"] += 1
        return y, cols_out

    def conv_weight(x, gy, w_shape, stride, padding, *rest, **kw):
        t0 = time.process_time()
        dw, cols_out = wgt(x, gy, w_shape, stride, padding, *rest, **kw)
        total["conv2d weight grad: im2col + GEMM"] += time.process_time() - t0
        cols = cols_out if cols_out is not None else K._im2col(x, w_shape[2:], stride, padding,
                                                               gy.shape[2:])
        g = K._rows(gy)
        gemm["conv2d weight grad"] += _best(lambda: g.T @ cols)
        calls["conv2d weight grad"] += 1
        return dw, cols_out

    def columns_to_image(rows, wrows, n, in_hw, channels, *rest, **kw):
        t0 = time.process_time()
        out = c2i(rows, wrows, n, in_hw, channels, *rest, **kw)
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
