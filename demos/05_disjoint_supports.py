"""Demo 5 — disjoint supports: JS is blind, Wasserstein is not (WGAN paper, Example 1; MATH.md §4).

p_0 = uniform on {0} × [0, 1], p_θ = uniform on {θ} × [0, 1].  Analytically
JSD(p_0, p_θ) = log 2 for every θ ≠ 0 while W(p_0, p_θ) = |θ|.  Then, with the
1-parameter generator G_θ(z) = (θ, z), z ~ U[0, 1]:

(a) a standard discriminator trained on samples of p_0 vs p_θ becomes
    perfect, and the saturating generator loss's gradient ∂L_G/∂θ vanishes as
    it does; a WGAN critic (weight clipping) and a WGAN-GP critic keep a
    gradient of steady size and the right sign;
(b) descending that gradient (plain SGD on θ, so a vanishing gradient means no
    motion) takes θ → 0 with WGAN / WGAN-GP and leaves θ where it was with
    the saturated JS loss.

    python demos/05_disjoint_supports.py [--out DIR] [--quick]

Settings for this 2-D toy (stated, not the image defaults): critics are
2→64→64→1 LeakyReLU(0.2) MLPs; standard D: Adam 1e-3; WGAN: RMSprop 1e-3,
clipping c = 0.1 (c = 0.01 makes a critic this small almost constant);
WGAN-GP: Adam 1e-3, β = (0.5, 0.9), λ = 10.  θ: SGD, no momentum.
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

import tinygan  # noqa: E402
from tinygan import nn, ops, theory  # noqa: E402
from tinygan.gan.losses import (critic_loss, discriminator_loss, generator_loss,  # noqa: E402
                                gradient_penalty, wasserstein_generator_loss)

NAME = "05_disjoint_supports"
KINDS = ("js", "wgan", "wgan-gp")
CLIP = 0.1
GP_LAMBDA = 10.0


class SegmentGenerator(nn.Module):
    """G_θ(z) = (θ, z): one parameter, p_θ = U({θ} × [0, 1]) when z ~ U[0, 1]."""

    def __init__(self, theta0: float):
        super().__init__()
        self.theta = nn.Parameter(np.full((1, 1), theta0, dtype=np.float32))

    def forward(self, z):
        x = ops.broadcast_to(self.theta, (z.shape[0], 1))
        return ops.concatenate([x, z], axis=1)


class SegmentGame:
    """One discriminator/critic of the given kind against the segment generator.

    ``sigma`` (a float or a function of the step) adds instance noise
    N(0, σ² I) to real and fake samples before D sees them (MATH.md §3; demo 6).
    """

    def __init__(self, kind: str, theta0: float = 1.0, seed: int = 0, m: int = 256, sigma=0.0):
        if kind not in KINDS:
            raise ValueError(f"SegmentGame: kind must be one of {KINDS}, got {kind!r}")
        tinygan.manual_seed(seed)
        self.kind, self.m, self.sigma = kind, m, sigma
        self.rng = np.random.default_rng(seed)
        self.g = SegmentGenerator(theta0)
        self.d = C.mlp([2, 64, 64, 1])
        if kind == "js":
            self.opt = C.optimizer("Adam", self.d.parameters(), lr=1e-3, betas=(0.5, 0.999))
        elif kind == "wgan":
            self.opt = C.optimizer("RMSprop", self.d.parameters(), lr=1e-3)
            C.clip_weights(self.d, CLIP)
        else:
            self.opt = C.optimizer("Adam", self.d.parameters(), lr=1e-3, betas=(0.5, 0.9))
        self.step_count = 0

    @property
    def theta(self) -> float:
        return float(C.to_np(self.g.theta).ravel()[0])

    def _sigma(self):
        return self.sigma(self.step_count) if callable(self.sigma) else float(self.sigma)

    def _noise(self, x):
        s = self._sigma()
        return x if s == 0 else x + C.T(s * self.rng.standard_normal(x.shape))

    def batches(self):
        real = C.T(theory.segment_samples(self.m, 0.0, self.rng))
        z = C.T(self.rng.random((self.m, 1)))
        return real, z

    def critic_step(self):
        real, z = self.batches()
        fake = self.g(z).detach()
        real_n, fake_n = self._noise(real), self._noise(fake)
        if self.kind == "js":
            loss = discriminator_loss(self.d(real_n), self.d(fake_n))
        else:
            loss = critic_loss(self.d(real_n), self.d(fake_n))
            if self.kind == "wgan-gp":
                loss = loss + GP_LAMBDA * gradient_penalty(self.d, real_n, fake_n)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        if self.kind == "wgan":
            C.clip_weights(self.d, CLIP)
        return loss.item()

    def generator_loss(self, z=None):
        """L_G: saturating log(1 − D(G(z))) for "js" (Algorithm 1), −E f(G(z)) for the critics."""
        if z is None:
            z = C.T(self.rng.random((4 * self.m, 1)))
        out = self.d(self._noise(self.g(z)))
        if self.kind == "js":
            return generator_loss(out, saturating=True)
        return wasserstein_generator_loss(out)

    def theta_grad(self) -> float:
        """∂L_G/∂θ on a fresh batch (the gradient the generator would descend)."""
        z = C.T(np.linspace(0, 1, 4 * self.m).reshape(-1, 1))
        return float(C.to_np(tinygan.grad(self.generator_loss(z), self.g.theta)).ravel()[0])

    def theta_step(self, lr: float):
        """θ ← θ − lr · ∂L_G/∂θ: plain gradient descent, so the gradient's size is the step."""
        g = tinygan.grad(self.generator_loss(), self.g.theta)
        self.g.theta.data = self.g.theta.data - lr * g.data
        self.step_count += 1


def gradient_while_critic_trains(kind, theta=1.0, steps=600, every=20, seed=0):
    """Train only D/critic against fixed θ; record ∂L_G/∂θ every ``every`` steps."""
    game = SegmentGame(kind, theta, seed)
    rec = [(0, game.theta_grad())]
    for s in range(1, steps + 1):
        game.critic_step()
        if s % every == 0:
            rec.append((s, game.theta_grad()))
    return np.array(rec)


def train_theta(kind, theta0=1.0, iters=300, n_critic=5, pretrain=300, lr_theta=0.05, seed=0,
                sigma=0.0):
    """The 1-parameter GAN: ``pretrain`` critic steps (D starts good), then per iteration
    ``n_critic`` critic steps and one SGD step on θ.  Returns the θ trajectory."""
    game = SegmentGame(kind, theta0, seed, sigma=sigma)
    for _ in range(pretrain):
        game.critic_step()
    thetas = [game.theta]
    for _ in range(iters):
        for _ in range(n_critic):
            game.critic_step()
        game.theta_step(lr_theta)
        thetas.append(game.theta)
    return np.array(thetas)


@C.single_threaded
def run(quick: bool = False, seed: int = 0):
    thetas = np.linspace(-1, 1, 201)
    grads = {k: gradient_while_critic_trains(k, steps=300 if quick else 1000, seed=seed)
             for k in KINDS}
    traj = {k: train_theta(k, iters=150 if quick else 400, pretrain=200 if quick else 500,
                           seed=seed) for k in KINDS}
    return dict(thetas=thetas, jsd=theory.jsd_segments(thetas),
                w=theory.wasserstein_segments(thetas), grads=grads, traj=traj)


def plot(r, out):
    import matplotlib.pyplot as plt
    fig, axs = plt.subplots(1, 3, figsize=(15, 4))
    axs[0].plot(r["thetas"], r["jsd"], "r.", ms=3, label="JSD(p_0, p_θ)")
    axs[0].plot(r["thetas"], r["w"], "b", label="W(p_0, p_θ) = |θ|")
    axs[0].set_xlabel("θ"), axs[0].legend(), axs[0].set_title("WGAN paper, Example 1")
    col = {"js": "r", "wgan": "g", "wgan-gp": "b"}
    for k, rec in r["grads"].items():
        axs[1].semilogy(rec[:, 0], np.abs(rec[:, 1]) + 1e-12, col[k], label=k)
    axs[1].set_xlabel("D / critic steps at θ = 1"), axs[1].set_ylabel("|∂L_G/∂θ|")
    axs[1].set_title("generator-side gradient as the critic improves")
    axs[1].legend()
    for k, th in r["traj"].items():
        axs[2].plot(th, col[k], label=k)
    axs[2].set_xlabel("generator step (SGD on θ)"), axs[2].set_ylabel("θ")
    axs[2].axhline(0, color="0.6", lw=0.8), axs[2].legend()
    axs[2].set_title("1-parameter generator")
    return C.save_figure(fig, out, "disjoint_supports.png")


def report(r):
    """Print the demo's numbers."""
    for k in KINDS:
        g = r["grads"][k][:, 1]
        print(f"{k:8s} dL_G/dtheta: first {g[0]:+.2e}, max |.| {np.max(np.abs(g)):.2e}, "
              f"last {g[-1]:+.2e};  theta: {r['traj'][k][0]:.3f} -> {r['traj'][k][-1]:.3f}")


def main(argv=None):
    return C.demo_main(NAME, __doc__, argv, run, plot, report)


if __name__ == "__main__":
    main()
