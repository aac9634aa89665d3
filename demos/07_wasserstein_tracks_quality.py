"""Demo 7 — the critic's estimate −L_D tracks sample quality: Spearman ρ ≥ 0.7 on ring8.

MATH.md §4, §5.

During WGAN (weight clipping) and WGAN-GP training on the 2-D ring of 8
Gaussians (``tinygan.data.toy.ring8``), and on MNIST digits when the shared
subset is present (full demo only), record the critic's estimate
−L_D = E f(x) − E f(G(z)) and an independent sample-quality measure: the
sliced Wasserstein-1 distance between G's samples and held-out data
(``theory.sliced_wasserstein``).  They should fall together; we report their
Spearman rank correlation (``theory.spearman``).

    python demos/07_wasserstein_tracks_quality.py [--out DIR] [--quick] [--mnist DIR]

Both are measured every 10 (quick) / 25 generator steps on the same fixed
evaluation batches (1000 held-out x, 1000 fixed z).  Measured on ring8 at
seeds 0–2, quick (400 generator steps): ρ = 0.70–0.84 (WGAN), 0.71–0.79
(WGAN-GP); −L_D ends at 0.09–0.17 of its first value, the sliced W1 at
0.19–0.33 of its.

Settings (stated; small networks on 2 CPU cores): G and critic are MLPs with
two hidden layers of 128 ReLU units; the library's ``wgan_loop`` /
``wgan_gp_loop`` with n_critic = 5, after 250 critic-only steps; WGAN:
RMSprop lr 1e-3 (critic) / 5e-5 (G), clipping c = 0.1; WGAN-GP: Adam
β = (0.5, 0.9), lr 1e-3 (critic) / 2e-4 (G), λ = 0.1 on 2-D (Gulrajani's toy
script) and λ = 10 on digits (the paper's).  A faster generator (1e-4 / 1e-3)
outruns the critic: measured ρ = 0.34–0.45 (WGAN), 0.46–0.69 (WGAN-GP).
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

import tinygan  # noqa: E402
from tinygan import theory  # noqa: E402
from tinygan.data.mnist import find_mnist_dir  # noqa: E402
from tinygan.gan.loops import wgan_gp_loop, wgan_loop  # noqa: E402
from tinygan.gan.steps import critic_step, generate_fakes  # noqa: E402

NAME = "07_wasserstein_tracks_quality"
MNIST_DIR = find_mnist_dir()  # None when no MNIST files are found
CLIP = 0.1   # c = 0.01 makes a critic this small almost constant
LR_WGAN_CRITIC = 1e-3
LR_GP_G = 2e-4
LR_WGAN_G = 5e-5


def train_wgan(sample_data, held_out, kind="wgan-gp", dim=2, z_dim=2, hidden=128, iters=300,
               n_critic=5, m=128, every=10, gp_lambda=0.1, seed=0, out_act=None,
               n_eval=1000, pretrain=250):
    """The library's ``wgan_loop`` / ``wgan_gp_loop``; every ``every`` generator steps,
    returns the critic's estimate −L_D = E f(x) − E f(G(z)) and the sliced W1 of G's
    samples to ``held_out``, both on the same fixed evaluation batches (n_eval held-out x,
    n_eval fixed z), so that the two differ only in what they measure.

    The critic should be near-optimal whenever −L_D is read as an estimate of W, so it is
    first trained alone for ``pretrain`` steps (the library's ``critic_step``).  WGAN's loop
    runs without its own warm-up (100 critic steps for each of the first 25 generator
    steps): at these settings that is 2.2× the critic steps of the whole quick run.
    """
    tinygan.manual_seed(seed)
    rng = np.random.default_rng(seed)
    g = C.mlp([z_dim, hidden, hidden, dim], act=tinygan.nn.ReLU, out_act=out_act)
    f = C.mlp([dim, hidden, hidden, 1], act=tinygan.nn.ReLU)
    real = C.source(lambda: sample_data(m, rng))
    noise = C.source(lambda: rng.standard_normal((m, z_dim)))
    if kind == "wgan":
        opt_f = C.optimizer("RMSprop", f.parameters(), lr=LR_WGAN_CRITIC)
        opt_g = C.optimizer("RMSprop", g.parameters(), lr=LR_WGAN_G)
        C.clip_weights(f, CLIP)
        options = dict(clip=CLIP)
        loop = wgan_loop(g, f, opt_g, opt_f, real, noise, steps=iters, n_critic=n_critic,
                         clip=CLIP, warmup=False)
    elif kind == "wgan-gp":
        opt_f = C.optimizer("Adam", f.parameters(), lr=1e-3, betas=(0.5, 0.9))
        opt_g = C.optimizer("Adam", g.parameters(), lr=LR_GP_G, betas=(0.5, 0.9))
        options = dict(gp_lambda=gp_lambda)
        loop = wgan_gp_loop(g, f, opt_g, opt_f, real, noise, steps=iters, n_critic=n_critic,
                            gp_lambda=gp_lambda)
    else:
        raise ValueError(f"train_wgan: kind must be 'wgan' or 'wgan-gp', got {kind!r}")
    for _ in range(pretrain):
        critic_step(f, opt_f, real(), generate_fakes(g, noise()), **options)
    z_eval = np.random.default_rng(seed + 1000).standard_normal((n_eval, z_dim))
    held_out = held_out[:n_eval]
    steps, est, quality = [], [], []

    def record(step):
        fake = C.evaluate(g, z_eval)
        steps.append(step)
        est.append(float(np.mean(C.evaluate(f, held_out)) - np.mean(C.evaluate(f, fake))))
        quality.append(theory.sliced_wasserstein(fake, held_out))
    record(0)                       # after the critic's pre-training, before G's first step
    for it, _ in enumerate(loop):   # the generator's lazy: G and f are read between steps
        if (it + 1) % every == 0:
            record(it + 1)
    steps, est, quality = np.array(steps), np.array(est), np.array(quality)
    return dict(steps=steps, estimate=est, quality=quality,
                estimate_drop=end_over_start(est), quality_drop=end_over_start(quality),
                spearman=theory.spearman(est, quality), G=g)


def end_over_start(values, frac=0.1) -> float:
    """Mean over the last ``frac`` of the records / the first record: where a curve ends
    relative to where it started, not one noisy point (the sliced W1 of 1000 samples
    moves by ≈ 0.02 between records)."""
    n = max(1, int(round(frac * len(values))))
    return float(np.mean(values[-n:]) / values[0])


def ring_runs(quick=False, seed=0):
    from tinygan.data.toy import ring8
    data = ring8()
    held_out = data.sample(1000, np.random.default_rng(seed + 500))
    iters = 400 if quick else 1500
    return {k: train_wgan(lambda n, rng: data.sample(n, rng), held_out, kind=k, iters=iters,
                          every=10 if quick else 25, seed=seed) for k in ("wgan", "wgan-gp")}


def digits_run(mnist_dir, quick=False, seed=0):
    from tinygan.data.mnist import load_mnist
    train_x, _ = load_mnist(mnist_dir, "train")
    test_x, _ = load_mnist(mnist_dir, "test")
    train_x = train_x.reshape(len(train_x), -1)
    held_out = test_x.reshape(len(test_x), -1)[:500]

    def sample(n, rng):
        return train_x[rng.integers(0, len(train_x), n)]
    return train_wgan(sample, held_out, kind="wgan-gp", dim=784, z_dim=32, hidden=256,
                      iters=150 if quick else 400, m=64, every=10 if quick else 20,
                      gp_lambda=10.0, seed=seed, out_act=tinygan.nn.Tanh, n_eval=500)


@C.single_threaded
def run(quick: bool = False, seed: int = 0, mnist_dir=None):
    r = {"ring8": ring_runs(quick, seed)}
    if mnist_dir is not None:
        r["digits"] = {"wgan-gp": digits_run(mnist_dir, quick, seed)}
    return r


def plot(r, out):
    import matplotlib.pyplot as plt
    paths = []
    for data_name, runs in r.items():
        fig, axs = plt.subplots(1, len(runs) + 1, figsize=(5 * (len(runs) + 1), 4))
        for ax, (k, h) in zip(axs, runs.items()):
            l1, = ax.plot(h["steps"], h["estimate"], "b", label="critic estimate −L_D")
            ax.set_xlabel("generator step"), ax.set_ylabel("−L_D", color="b")
            ax2 = ax.twinx()
            l2, = ax2.plot(h["steps"], h["quality"], "r", label="sliced W1 to held-out data")
            ax2.set_ylabel("sliced W1 (sample quality)", color="r")
            ax.legend(handles=[l1, l2], loc="upper right", fontsize=8)
            est, q = h["estimate_drop"], h["quality_drop"]
            tested = " (tested > 0.3)" if data_name == "ring8" else ""
            ax.set_title(f"{data_name}, {k}: Spearman ρ = {h['spearman']:.2f}{tested}\n"
                         f"last tenth / first: −L_D {est:.2f} (< 0.4), sliced W1 {q:.2f} (< 0.7)"
                         if data_name == "ring8" else
                         f"{data_name}, {k}: Spearman ρ = {h['spearman']:.2f}\n"
                         f"last tenth / first: −L_D {est:.2f}, sliced W1 {q:.2f}", fontsize=10)
        last = axs[-1]
        h = list(runs.values())[-1]
        if data_name == "ring8":
            s = C.evaluate(h["G"], np.random.default_rng(3).standard_normal((1000, 2)))
            from tinygan.data.toy import ring8
            c = ring8().centers
            last.scatter(s[:, 0], s[:, 1], s=3, alpha=0.5, label="G(z)")
            last.scatter(c[:, 0], c[:, 1], c="r", marker="x", label="mode centres")
            last.set_aspect("equal"), last.legend(fontsize=8)
            last.set_title(f"{list(runs)[-1]} samples at the end")
        else:
            s = C.evaluate(h["G"], np.random.default_rng(3).standard_normal((36, 32)))
            grid = s.reshape(6, 6, 28, 28).transpose(0, 2, 1, 3).reshape(168, 168)
            last.imshow(grid, cmap="gray", vmin=-1, vmax=1), last.axis("off")
            last.set_title("WGAN-GP digits (MNIST subset)")
        fig.tight_layout()
        path = os.path.join(out, f"wasserstein_tracks_quality_{data_name}.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def main(argv=None):
    import argparse
    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--mnist", default=MNIST_DIR)
    known, rest = extra.parse_known_args(argv)
    args = C.parse_args(NAME, __doc__.splitlines()[0], rest)
    out = C.out_dir(args.out)
    t = C.Timer()
    has_mnist = (not args.quick) and known.mnist is not None \
        and find_mnist_dir(known.mnist) is not None
    r = run(args.quick, args.seed, mnist_dir=known.mnist if has_mnist else None)
    plot(r, out)
    for data_name, runs in r.items():
        for k, h in runs.items():
            print(f"{data_name:6s} {k:8s} -L_D {h['estimate'][0]:.3f} -> {h['estimate'][-1]:.3f}; "
                  f"sliced W1 {h['quality'][0]:.3f} -> {h['quality'][-1]:.3f}; "
                  f"last tenth / first: -L_D {h['estimate_drop']:.3f}, sliced W1 "
                  f"{h['quality_drop']:.3f}; Spearman rho = {h['spearman']:.3f}")
    if not has_mnist and not args.quick:
        print(f"(no MNIST files in {known.mnist}: digits part skipped)")
    print(f"figures in {out}  ({t})")
    return r


if __name__ == "__main__":
    main()
