"""One command for the first session with a GPU: is tinygan right and fast on CuPy?

    python benchmarks/gpu_check.py                  # on a machine with CuPy and a GPU
    python benchmarks/gpu_check.py --backend standin --quick   # the same path, here, on the
                                                    # CuPy stand-in (no GPU needed)

Stages, each printed as it finishes and gathered in one summary table at the end; the
first wrong result stops the check with exit status 1:

1. device      what CuPy sees (device name, memory, CUDA version);
2. parity      one DCGAN-28 training step (batch norm, Adam) and one WGAN-GP critic step
               (double backprop) on the backend against NumPy from the same weights and
               batches: losses and updated weights must agree to float32 rounding;
3. suite       the whole test suite with the backend added to the ``backend`` fixture
               (TINYGAN_TEST_BACKENDS), stopping at the first failure;
4. speed       benchmarks/bench_steps.py workloads (a)–(f) with the device synchronised
               before each timer stops, against PyTorch on CUDA when it is installed;
5. training    a 2-minute DCGAN-64 run (ngf = ndf = 64) on digits upscaled to 64×64
               (random images when the MNIST files are absent), through the library's
               own gan_loop: steps/s, and the losses must stay finite.

Budget: about 8 minutes on one modern GPU (suite ≈ 3, speed ≈ 2, training 2).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

import tinygan  # noqa: E402
from tinygan import backend as B  # noqa: E402


class CheckFailed(RuntimeError):
    pass


def _select(backend: str) -> None:
    if backend == "standin":
        import tinygan.testing  # noqa: F401  (registers the stand-in)
    B.set_backend(backend)


def stage_device(backend):
    if backend != "cupy":
        return f"{backend} (no GPU: the CuPy stand-in computes with NumPy on the host)"
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    free, total = cupy.cuda.runtime.memGetInfo()
    return (f"{props['name'].decode()} — {total / 2**30:.0f} GiB ({free / 2**30:.0f} free), "
            f"CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}, CuPy {cupy.__version__}")


def _host_weights(net, rng) -> dict:
    """A state dict of small random weights (BN scales near 1) drawn on the host;
    batch-norm running statistics are kept as they are."""
    state = {}
    for key, value in net.state_dict().items():
        value = B.to_numpy(value)
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            state[key] = value
        else:
            scale = 1.0 if key.endswith("weight") and value.ndim == 1 else 0.0
            state[key] = (rng.standard_normal(value.shape) * 0.05 + scale).astype(np.float32)
    return state


def _parity_case(kind, backend, seed=0):
    """Losses and weights after one step of ``kind`` on ``backend`` (host arrays back)."""
    from tinygan import nn
    from tinygan.gan.models import DCGANDiscriminator, DCGANGenerator
    from tinygan.gan.losses import critic_loss, gradient_penalty
    from tinygan.gan.steps import (discriminator_step, generate_fakes, generator_step,
                                   gradient_step)
    from tinygan.optim import Adam
    _select(backend)
    tinygan.manual_seed(seed)
    rng = np.random.default_rng(seed)
    G = DCGANGenerator(16, 1, 28, 8)
    D = DCGANDiscriminator(1, 28, 8, batch_norm=kind == "dcgan")
    # identical weights on both backends: drawn on the host, moved to the device
    for net in (G, D):
        net.load_state_dict(_host_weights(net, rng))
    x = tinygan.Tensor(B.to_device(rng.uniform(-1, 1, (16, 1, 28, 28)).astype(np.float32)))
    z1 = tinygan.Tensor(B.to_device(rng.standard_normal((16, 16, 1, 1)).astype(np.float32)))
    z2 = tinygan.Tensor(B.to_device(rng.standard_normal((16, 16, 1, 1)).astype(np.float32)))
    opt_g, opt_d = Adam(G.parameters(), 2e-4, (0.5, 0.999)), Adam(D.parameters(), 2e-4,
                                                                  (0.5, 0.999))
    if kind == "dcgan":
        loss_d, _, _ = discriminator_step(D, opt_d, x, generate_fakes(G, z1))
        loss_g = generator_step(G, D, opt_g, z2)
        losses = [float(loss_d.item()), float(loss_g.item())]
    else:
        # critic_step draws the interpolation ε from the backend's own generator, which
        # differs between NumPy and CuPy: draw ε on the host and take the same step from
        # the library's pieces (the penalty, the critic loss, one gradient step)
        fake = generate_fakes(G, z1)
        eps = tinygan.Tensor(B.to_device(rng.uniform(0, 1, (16, 1, 1, 1)).astype(np.float32)))
        x_hat = (x * eps + fake * (1.0 - eps)).requires_grad_(True)
        w = critic_loss(D(x), D(fake))
        gp = gradient_penalty(D, x, fake, x_hat=x_hat)
        gradient_step(opt_d, w + 10.0 * gp)
        losses = [float(w.item()), float(gp.item())]
    weights = {f"{n}.{k}": B.to_numpy(v) for n, net in (("G", G), ("D", D))
               for k, v in net.state_dict().items()}
    B.set_backend("numpy")
    return losses, weights


def stage_parity(backend):
    lines = []
    for kind in ("dcgan", "wgan-gp"):
        ref_l, ref_w = _parity_case(kind, "numpy")
        got_l, got_w = _parity_case(kind, backend)
        worst = max(float(np.max(np.abs(got_w[k] - ref_w[k]) / (np.abs(ref_w[k]) + 1e-3)))
                    for k in ref_w)
        loss_err = max(abs(a - b) / (abs(b) + 1e-6) for a, b in zip(got_l, ref_l))
        ok = worst < 1e-3 and loss_err < 1e-4
        lines.append(f"{kind}: losses rel. err {loss_err:.1e}, weights {worst:.1e}")
        if not ok:
            raise CheckFailed(f"parity {kind}: {backend} differs from NumPy ({lines[-1]})")
    return "; ".join(lines)


def stage_suite(backend, quick):
    env = dict(os.environ, TINYGAN_TEST_BACKENDS=backend if backend != "standin" else "",
               OPENBLAS_NUM_THREADS="1")
    args = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    args += ["tests/test_gan_loops.py", "tests/test_backend.py"] if quick else ["tests"]
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    last = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-2000:], sep="\n")
        raise CheckFailed(f"test suite on {backend}: {last}")
    return last


def stage_speed(backend, quick):
    args = [sys.executable, os.path.join(ROOT, "benchmarks", "bench_steps.py"), "--backend",
            backend, "-t", "1", "-w", "a", "b64", "b128", "c", "e", "f"]
    args += ["-r", "3", "--warmup", "1", "-w", "a", "e", "f", "--no-torch"] if quick else \
        ["-r", "20"]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-2000:], sep="\n")
        raise CheckFailed("step benchmarks failed")
    table = proc.stdout[proc.stdout.find("## summary"):].strip().splitlines()
    print("\n".join(table))
    return f"{len([t for t in table if t.startswith('| ') and 'workload' not in t])} rows"


def _digits_64(n):
    from tinygan.data.mnist import find_mnist_dir, load_mnist
    folder = find_mnist_dir()
    if folder is None:
        return np.random.default_rng(0).uniform(-1, 1, (n, 3, 64, 64)).astype(np.float32), \
            "random images"
    images, _ = load_mnist(folder, "train")
    images = np.pad(images[:n], ((0, 0), (0, 0), (2, 2), (2, 2)), constant_values=-1.0)
    images = images.repeat(2, axis=2).repeat(2, axis=3)  # 32 → 64, nearest neighbour
    return np.repeat(images, 3, axis=1), "MNIST digits upscaled to 64x64x3"


def stage_training(backend, seconds):
    from tinygan.gan.loops import gan_loop
    from tinygan.gan.models import DCGANDiscriminator, DCGANGenerator
    from tinygan.gan.streams import DataSource, ImageStream, NoiseSource
    from tinygan.optim import Adam
    _select(backend)
    tinygan.manual_seed(0)
    images, what = _digits_64(2048)
    batch = 64
    G, D = DCGANGenerator(100, 3, 64, 64), DCGANDiscriminator(3, 64, 64)
    opt_g, opt_d = Adam(G.parameters(), 2e-4, (0.5, 0.999)), Adam(D.parameters(), 2e-4,
                                                                  (0.5, 0.999))
    real = DataSource(ImageStream(images, batch, 0), batch)
    t0, steps, record = time.perf_counter(), 0, None
    for record in gan_loop(G, D, opt_g, opt_d, real, NoiseSource(G, batch), steps=10**9):
        steps += 1
        if steps % 10 == 0:
            values = {k: float(v.item()) for k, v in record.items()}  # one sync per 10 steps
            if not all(np.isfinite(list(values.values()))):
                raise CheckFailed(f"DCGAN-64 training diverged at step {steps}: {values}")
        if time.perf_counter() - t0 > seconds:
            break
    elapsed = time.perf_counter() - t0
    values = {k: round(float(v.item()), 3) for k, v in record.items()}
    B.set_backend("numpy")
    return f"{what}: {steps} steps in {elapsed:.0f} s = {steps / elapsed:.2f} steps/s; {values}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--backend", default="cupy", choices=("cupy", "standin"))
    p.add_argument("--quick", action="store_true",
                   help="a short version of each stage (what the test suite runs here)")
    p.add_argument("--skip", nargs="*", default=[], choices=("suite", "speed", "training"),
                   help="stages to leave out")
    p.add_argument("--train-seconds", type=float, default=None,
                   help="length of the training stage (default: 120, 10 with --quick)")
    args = p.parse_args(argv)
    seconds = args.train_seconds or (10.0 if args.quick else 120.0)
    stages = [("device", lambda: stage_device(args.backend)),
              ("parity", lambda: stage_parity(args.backend)),
              ("suite", lambda: stage_suite(args.backend, args.quick)),
              ("speed", lambda: stage_speed(args.backend, args.quick)),
              ("training", lambda: stage_training(args.backend, seconds))]
    results, t_all = [], time.perf_counter()
    try:
        _select(args.backend)
        B.set_backend("numpy")
    except B.BackendError as exc:
        print(f"gpu_check: {exc}", file=sys.stderr)
        return 1
    status = 0
    for name, run in stages:
        if name in args.skip:
            continue
        t0 = time.perf_counter()
        try:
            outcome, ok = run(), "ok"
        except CheckFailed as exc:
            outcome, ok, status = str(exc), "FAILED", 1
        results.append((name, ok, f"{time.perf_counter() - t0:.0f} s", outcome))
        print(f"[gpu_check] {name}: {ok} ({results[-1][2]}) {outcome}", flush=True)
        if status:
            break
    print(f"\n## gpu_check summary ({args.backend}, {time.perf_counter() - t_all:.0f} s)")
    print("| stage | result | time | detail |\n|---|---|---|---|")
    for row in results:
        print("| " + " | ".join(row) + " |")
    return status


if __name__ == "__main__":
    sys.exit(main())
