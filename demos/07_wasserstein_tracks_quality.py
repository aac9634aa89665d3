"""Demo 7 — the critic's Wasserstein estimate −L_D tracks sample quality (MATH.md §4, §5).

During WGAN (weight clipping) and WGAN-GP training on the 2-D ring of 8
Gaussians (``tinygan.data.toy.ring8``), and on MNIST digits when the shared
subset is present (full demo only), record the critic's estimate
−L_D = E f(x) − E f(G(z)) and an independent sample-quality measure: the
sliced Wasserstein-1 distance between G's samples and held-out data
(``theory.sliced_wasserstein``).  They should fall together; we report their
Spearman rank correlation (``theory.spearman``).

    python demos/07_wasserstein_tracks_quality.py [--out DIR] [--quick] [--mnist DIR]

Settings (stated; small networks on 2 CPU cores): G and critic are MLPs with
two hidden layers of 128 ReLU units; n_critic = 5 (25 for the first 10 generator
steps); WGAN: RMSprop lr 1e-3 (critic) / 1e-4 (G),
clipping c = 0.1; WGAN-GP: Adam lr 1e-3, β = (0.5, 0.9), λ = 0.1 on 2-D
(Gulrajani's toy script) and λ = 10 on digits (the paper's).
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
from tinygan.gan.losses import (critic_loss, gradient_penalty,  # noqa: E402
                                wasserstein_generator_loss)

NAME = "07_wasserstein_tracks_quality"
MNIST_DIR = find_mnist_dir()  # None when no MNIST files are found


def train_wgan(sample_data, held_out, kind="wgan-gp", dim=2, z_dim=2, hidden=128, iters=300,
               n_critic=5, m=128, every=10, gp_lambda=0.1, seed=0, out_act=None,
               n_eval=1000):
    """WGAN / WGAN-GP; returns steps, −L_D (mean over the critic steps since the last record)
    and the sliced W1 of G's samples to ``held_out`` at each record."""
    tinygan.manual_seed(seed)
    rng = np.random.default_rng(seed)
    g = C.mlp([z_dim, hidden, hidden, dim], act=tinygan.nn.ReLU, out_act=out_act)
    f = C.mlp([dim, hidden, hidden, 1], act=tinygan.nn.ReLU)
    if kind == "wgan":
        opt_f = C.optimizer("RMSprop", f.parameters(), lr=1e-3)
        opt_g = C.optimizer("RMSprop", g.parameters(), lr=1e-4)
        C.clip_weights(f, 0.1)
    elif kind == "wgan-gp":
        opt_f = C.optimizer("Adam", f.parameters(), lr=1e-3, betas=(0.5, 0.9))
        opt_g = C.optimizer("Adam", g.parameters(), lr=1e-3, betas=(0.5, 0.9))
    else:
        raise ValueError(f"train_wgan: kind must be 'wgan' or 'wgan-gp', got {kind!r}")
    z_eval = np.random.default_rng(seed + 1000).standard_normal((n_eval, z_dim))
    held_out = held_out[:n_eval]
    steps, est, quality, window = [], [], [], []
    for it in range(iters + 1):
        if it % every == 0:
            steps.append(it)
            est.append(float(np.mean(window)) if window else np.nan)
            quality.append(theory.sliced_wasserstein(C.evaluate(g, z_eval), held_out))
            window = []
        if it == iters:
            break
        # WGAN paper's rule, scaled down: a well-trained critic first (25 critic steps
        # per generator step for the first 10), so that −L_D estimates W from the start.
        for _ in range(25 if it < 10 else n_critic):
            real = C.T(sample_data(m, rng))
            fake = g(C.T(rng.standard_normal((m, z_dim)))).detach()
            l_w = critic_loss(f(real), f(fake))
            loss = l_w if kind == "wgan" else l_w + gp_lambda * gradient_penalty(f, real, fake)
            opt_f.zero_grad()
            loss.backward()
            opt_f.step()
            if kind == "wgan":
                C.clip_weights(f, 0.1)
            window.append(-l_w.item())          # −L_D: the running estimate of K·W
        loss_g = wasserstein_generator_loss(f(g(C.T(rng.standard_normal((m, z_dim))))))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    steps, est, quality = np.array(steps), np.array(est), np.array(quality)
    ok = ~np.isnan(est)   # the first record has no critic estimate yet
    return dict(steps=steps[ok], estimate=est[ok], quality=quality[ok],
                spearman=theory.spearman(est[ok], quality[ok]), G=g)


def ring_runs(quick=False, seed=0):
    from tinygan.data.toy import ring8
    data = ring8()
    held_out = data.sample(1000, np.random.default_rng(seed + 500))
    iters = 300 if quick else 1500
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
            ax.plot(h["steps"], h["estimate"], "b", label="critic estimate −L_D")
            ax.set_xlabel("generator step"), ax.set_ylabel("−L_D", color="b")
            ax2 = ax.twinx()
            ax2.plot(h["steps"], h["quality"], "r", label="sliced W1 to held-out data")
            ax2.set_ylabel("sliced W1 (sample quality)", color="r")
            ax.set_title(f"{data_name}, {k}: Spearman ρ = {h['spearman']:.2f}")
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
                  f"Spearman rho = {h['spearman']:.3f}")
    if not has_mnist and not args.quick:
        print(f"(no MNIST files in {known.mnist}: digits part skipped)")
    print(f"figures in {out}  ({t})")
    return r


if __name__ == "__main__":
    main()
