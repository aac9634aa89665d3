"""Shared plumbing of the math demos: command line, output folder, small MLPs, optimisers.

Nothing here is theory; the theory is in :mod:`tinygan.theory` and in each demo's
``run`` function.  All learning uses tinygan's own engine.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:  # `python demos/0N_x.py` from a checkout without `pip install`
    sys.path.insert(0, _ROOT)

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # headless: the demos only write PNG/GIF files

import tinygan  # noqa: E402
from tinygan import nn  # noqa: E402
from tinygan.gan.steps import clip_weights  # noqa: E402,F401  (WGAN: w ← clip(w, −c, c))


def parse_args(name: str, description: str, argv=None):
    p = argparse.ArgumentParser(prog=f"demos/{name}.py", description=description)
    p.add_argument("--out", default=os.path.join("demo-out", name),
                   help="folder for the figures (default: demo-out/%(prog)s)")
    p.add_argument("--quick", action="store_true", help="fast settings (what the tests use)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def demo_main(name: str, doc: str, argv, run, plot, report):
    """A demo's command line: parse --out/--quick/--seed, run, plot, report, say where."""
    args = parse_args(name, doc.splitlines()[0], argv)
    out = out_dir(args.out)
    timer = Timer()
    r = run(args.quick, args.seed)
    plot(r, out)
    report(r)
    print(f"figures in {out}  ({timer})")
    return r


def out_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path


def load_demo(name: str):
    """Import ``demos/<name>.py`` as a module (demo files start with a digit, so no plain import)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"demo_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def T(a, requires_grad: bool = False) -> tinygan.Tensor:
    """Host NumPy array → engine Tensor (float32)."""
    return tinygan.Tensor(np.asarray(a, dtype=np.float32), requires_grad=requires_grad)


def to_np(t) -> np.ndarray:
    return tinygan.to_numpy(t.data).astype(np.float64)


def mlp(sizes, act=lambda: nn.LeakyReLU(0.2), out_act=None) -> nn.Module:
    """Linear layers of the given widths with ``act`` between them (and ``out_act`` last)."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    if out_act is not None:
        layers.append(out_act())
    return nn.Sequential(*layers)


def evaluate(model, x_np) -> np.ndarray:
    """model(x) on host data, without recording a graph, back as float64 NumPy."""
    with tinygan.no_grad():
        return to_np(model(T(np.asarray(x_np).reshape(len(x_np), -1))))


def sigmoid_np(a):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, dtype=np.float64)))


# ---------------------------------------------------------------- optimisers
def optimizer(kind: str, params, lr: float, **kw):
    """``tinygan.optim.<kind>`` (SGD / Adam / RMSprop, PyTorch API)."""
    return getattr(tinygan.optim, kind)(list(params), lr=lr, **kw)


def save_figure(fig, out: str, filename: str) -> str:
    """Lay out, write as PNG into ``out`` and close ``fig``; return the path."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    path = os.path.join(out, filename)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def single_threaded(fn):
    """Run ``fn`` with BLAS limited to one thread (threadpoolctl).

    The demos multiply small matrices (batch × 64); on 2 shared cores OpenBLAS's
    threads then cost more than they save (measured: 0.07 ms vs 0.35–2.5 ms per
    512×64 @ 64×64 product under load).
    """
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1, user_api="blas"):
            return fn(*args, **kwargs)
    return wrapper


class Timer:
    def __init__(self):
        self.t0 = time.perf_counter()

    def __str__(self):
        return f"{time.perf_counter() - self.t0:.1f} s"
