"""Single-layer speed: forward + backward of Linear, Conv2d and ConvTranspose2d at DCGAN sizes.

    python benchmarks/bench_layers.py                 # 1 and 2 threads, all layers
    python benchmarks/bench_layers.py --threads 1 --repeat 30
    python benchmarks/bench_layers.py --only conv     # layers whose name contains "conv"

For each layer (float32, the batch sizes of bench_steps.py's DCGAN workloads (b), (c))
one call is ``y = layer(x)`` followed by ``y.backward(g)`` with x, weight and
bias all requiring gradients, so a convolution runs its three GEMMs (output,
input gradient, weight gradient).  The upstream gradient ``g`` is a ones
array laid out like ``y`` (as the gradient of any elementwise op that
follows the layer would be), and the input ``x`` has the memory layout it
has inside the DCGAN networks (channels-last when a tinygan conv layer made
it, see the LAYERS table); PyTorch gets contiguous NCHW tensors.

Reported per layer: median ms per call with min/max (≥ 20 timed calls after
warm-up, tinygan and PyTorch interleaved round by round), GFLOP/s, the
fraction of this machine's float32 GEMM rate (a large NumPy matmul timed in the
same rounds, so both figures see the same machine load), and the ratio of tinygan's time to PyTorch's on the same
number of threads.

FLOPs counted: 2·(multiply-adds) of the forward, times 3 for forward+backward
(forward, input gradient, weight gradient are GEMMs of equal size); the bias
and im2col/col2im data movement are not counted as FLOPs.

Host-only code: it may use NumPy, PyTorch and threadpoolctl directly.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import tinygan  # noqa: E402
from tinygan import backend as B  # noqa: E402
from tinygan import nn  # noqa: E402
from tinygan.autograd import Tensor  # noqa: E402

from _common import tune_malloc  # noqa: E402
from _common import (print_machine_info, print_table, set_threads, sync_for_backend,  # noqa: E402
                     time_interleaved, torch)


# (name, kind, in, out, kernel, stride, padding, input shape, input layout)
# The layout is the one the input has inside the network: "nchw" (images,
# reshaped Linear outputs) or "nhwc" (the output of a tinygan conv layer, kept
# in channels-last memory and seen as an (N, C, H, W) view, see ops/conv.py).
LAYERS = [
    # DCGAN for 28×28 digits (bench_steps.py workload (b)), batch 64
    ("G28 linear 100->6272", "linear", 100, 128 * 7 * 7, None, None, None, (64, 100), "nchw"),
    ("G28 convT 128->64 7->14", "convT", 128, 64, 4, 2, 1, (64, 128, 7, 7), "nchw"),
    ("G28 convT 64->1 14->28", "convT", 64, 1, 4, 2, 1, (64, 64, 14, 14), "nhwc"),
    ("D28 conv 1->64 28->14", "conv", 1, 64, 4, 2, 1, (64, 1, 28, 28), "nchw"),
    ("D28 conv 64->128 14->7", "conv", 64, 128, 4, 2, 1, (64, 64, 14, 14), "nhwc"),
    ("D28 linear 6272->1", "linear", 128 * 7 * 7, 1, None, None, None, (64, 128 * 7 * 7), "nchw"),
    # DCGAN 64×64×3 (bench_steps.py workload (c), ngf = ndf = 64, nz = 100), batch 64
    ("G64 convT 100->512 1->4", "convT", 100, 512, 4, 1, 0, (64, 100, 1, 1), "nchw"),
    ("G64 convT 512->256 4->8", "convT", 512, 256, 4, 2, 1, (64, 512, 4, 4), "nhwc"),
    ("G64 convT 256->128 8->16", "convT", 256, 128, 4, 2, 1, (64, 256, 8, 8), "nhwc"),
    ("G64 convT 128->64 16->32", "convT", 128, 64, 4, 2, 1, (64, 128, 16, 16), "nhwc"),
    ("G64 convT 64->3 32->64", "convT", 64, 3, 4, 2, 1, (64, 64, 32, 32), "nhwc"),
    ("D64 conv 3->64 64->32", "conv", 3, 64, 4, 2, 1, (64, 3, 64, 64), "nchw"),
    ("D64 conv 64->128 32->16", "conv", 64, 128, 4, 2, 1, (64, 64, 32, 32), "nhwc"),
    ("D64 conv 128->256 16->8", "conv", 128, 256, 4, 2, 1, (64, 128, 16, 16), "nhwc"),
    ("D64 conv 256->512 8->4", "conv", 256, 512, 4, 2, 1, (64, 256, 8, 8), "nhwc"),
    ("D64 conv 512->1 4->1", "conv", 512, 1, 4, 1, 0, (64, 512, 4, 4), "nhwc"),
]


def layer_flops(kind, cin, cout, k, x_shape, y_shape):
    """Forward FLOPs (2 per multiply-add)."""
    if kind == "linear":
        return 2 * x_shape[0] * cin * cout
    if kind == "conv":       # every output pixel: C·k·k MACs per output channel
        n, _, oh, ow = y_shape
        return 2 * n * oh * ow * cout * cin * k * k
    n, _, h, w = x_shape     # transposed: every input pixel scatters Cin·Cout·k·k MACs
    return 2 * n * h * w * cin * cout * k * k


def make_tinygan(kind, cin, cout, k, s, p):
    if kind == "linear":
        return nn.Linear(cin, cout)
    if kind == "conv":
        return nn.Conv2d(cin, cout, k, stride=s, padding=p)
    return nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p)


def make_torch(kind, cin, cout, k, s, p, tg_layer):
    if kind == "linear":
        layer = torch.nn.Linear(cin, cout)
    elif kind == "conv":
        layer = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p)
    else:
        layer = torch.nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p)
    with torch.no_grad():  # same weights on both sides
        layer.weight.copy_(torch.from_numpy(B.to_numpy(tg_layer.weight.data)))
        layer.bias.copy_(torch.from_numpy(B.to_numpy(tg_layer.bias.data)))
    return layer


def gemm_rate(n=2048, repeat=5):
    """float32 GFLOP/s of one large NumPy (BLAS) matmul on the current thread setting."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(times) / 1e9


_GEMM_N = 1024


def _gemm_case():
    """A 1024³ float32 NumPy matmul, timed in the same rounds as each layer, so the
    'fraction of GEMM rate' compares figures taken under the same machine load."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((_GEMM_N, _GEMM_N), dtype=np.float32)
    b = rng.standard_normal((_GEMM_N, _GEMM_N), dtype=np.float32)
    return lambda: a @ b


def bench_layer(spec, repeat, warmup, with_torch, sync):
    name, kind, cin, cout, k, s, p, x_shape, layout = spec
    xp = B.xp()
    layer = make_tinygan(kind, cin, cout, k, s, p)
    x_data = B.randn(x_shape, dtype=np.float32)
    if layout == "nhwc":  # same values, channels-last memory, as a conv layer would hand over
        x_data = xp.ascontiguousarray(x_data.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    x = Tensor(x_data, requires_grad=True)
    y = layer(x)
    y_shape = y.shape
    g = xp.ones_like(y.data)  # laid out like y, as an elementwise op's gradient would be

    def run_tinygan():
        x.grad = None
        layer.zero_grad()
        out = layer(x)
        out.backward(g)

    cases = {"tinygan": run_tinygan, "gemm": _gemm_case()}
    syncs = {"tinygan": sync}
    if with_torch:
        tlayer = make_torch(kind, cin, cout, k, s, p, layer)
        # PyTorch gets its own natural layout (contiguous NCHW).
        tx = torch.from_numpy(np.ascontiguousarray(B.to_numpy(x.data))).requires_grad_(True)
        tg = torch.ones(y_shape)

        def run_torch():
            tx.grad = None
            tlayer.zero_grad(set_to_none=True)
            out = tlayer(tx)
            out.backward(tg)

        cases["torch"] = run_torch
    stats = time_interleaved(cases, repeat=repeat, warmup=warmup, syncs=syncs)
    flops = 3 * layer_flops(kind, cin, cout, k, x_shape, y_shape)
    return y_shape, flops, stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2",
                    help="comma-separated thread counts (BLAS and PyTorch), default 1,2")
    ap.add_argument("--repeat", type=int, default=20, help="timed calls per layer (>= 20)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--only", default="", help="run layers whose name contains this text")
    ap.add_argument("--backend", default="numpy", choices=["numpy", "cupy"],
                    help="where the tinygan side runs (PyTorch side stays on the CPU)")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch side")
    args = ap.parse_args(argv)
    if args.repeat < 20:
        ap.error("--repeat must be at least 20 (the median of >= 20 calls, _common.py)")

    tinygan.set_backend(args.backend)
    tinygan.manual_seed(0)
    # As tinygan's training entry does (process-wide; see benchmarks/README.md).
    print(f"# tinygan.backend.tune_host_allocator(): {'on' if tune_malloc() else 'off'}")
    sync = sync_for_backend(args.backend)
    with_torch = torch is not None and not args.no_torch
    layers = [spec for spec in LAYERS if args.only.lower() in spec[0].lower()]
    print_machine_info()
    print(f"# tinygan backend={args.backend}, float32, fwd+bwd per call, "
          f"median of {args.repeat} after {args.warmup} warm-up (interleaved with PyTorch)")

    for threads in [int(t) for t in args.threads.split(",") if t.strip()]:
        set_threads(threads)
        print(f"\n## {threads} thread(s): float32 GEMM rate (NumPy 2048x2048 matmul) "
              f"= {gemm_rate():.1f} GFLOP/s at the start; 'GEMM GFLOP/s' below is a "
              f"{_GEMM_N}^3 matmul timed in the same rounds as each layer")
        rows = []
        for spec in layers:
            y_shape, flops, stats = bench_layer(spec, args.repeat, args.warmup, with_torch, sync)
            st = stats["tinygan"]
            gflops = flops / st.median / 1e9
            rate = 2 * _GEMM_N ** 3 / stats["gemm"].median / 1e9
            shape = "x".join(map(str, spec[7])) + (" nhwc" if spec[8] == "nhwc" else "")
            row = [spec[0], shape, f"{st.median * 1e3:.2f}",
                   f"{st.min * 1e3:.2f}-{st.max * 1e3:.2f}", f"{gflops:.1f}",
                   f"{rate:.0f}", f"{100 * gflops / rate:.0f}%"]
            if with_torch:
                ts = stats["torch"]
                row += [f"{ts.median * 1e3:.2f}", f"{flops / ts.median / 1e9:.1f}",
                        f"{st.median / ts.median:.2f}"]
            rows.append(row)
            sys.stdout.flush()
        headers = ["layer", "input", "ms", "min-max", "GFLOP/s", "GEMM GFLOP/s", "of GEMM"]
        if with_torch:
            headers += ["torch ms", "torch GFLOP/s", "tinygan/torch"]
        print_table(rows, headers)


if __name__ == "__main__":
    main()
