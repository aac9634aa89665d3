"""The training loops, each short enough to read beside its paper's algorithm.

A loop is a plain generator function over explicit collaborators: the networks
G and D, their optimisers, a data source ``real()`` (a fresh minibatch of m
samples from p_data, as a Tensor on the device), a noise source ``noise()`` (m
fresh z ~ p_z) and its algorithm's hyper-parameters.  It yields one record per
generator iteration — a dict of losses, estimates and D(x)/D(G(z)) means —
and does nothing else: no files, no logging, no checks.  Whoever iterates it
decides what to do with the records (:class:`tinygan.gan.run.Run` logs,
checkpoints and stops on NaN; a demo keeps the numbers it plots)::

    for record in gan_loop(G, D, opt_g, opt_d, real, noise, steps=1000):
        print(record["loss_d"].item())

``steps`` is Algorithm 1's number of training iterations and ``start`` the
first one (a resumed run continues its count; WGAN's critic schedule reads it).
Record values are 0-d Tensors (on the device: reading one is the caller's
host transfer) or Python numbers.
"""
from __future__ import annotations

from ..ops import mean, sigmoid
from .steps import (critic_generator_step, critic_step, discriminator_step, generate_fakes,
                    generator_step)

__all__ = ["gan_loop", "wgan_loop", "wgan_gp_loop", "critic_iterations", "linear_decay",
           "LOOPS"]


def linear_decay(start: float, span: int):
    """σ(step) = start · max(0, 1 − step / span): instance noise annealed linearly to 0."""
    def sigma(step: int) -> float:
        return start * max(0.0, 1.0 - step / span) if start > 0 else 0.0
    return sigma


def gan_loop(G, D, opt_g, opt_d, real, noise, *, steps: int, start: int = 0, k: int = 1,
             saturating: bool = False, sigma=None, real_label: float = 1.0):
    """Goodfellow et al. 2014, Algorithm 1 (GAN and DCGAN), with optional instance noise.

    ``k``: discriminator steps per generator step; ``saturating``: the minimax
    generator loss log(1 − D(G(z))) instead of the non-saturating −log D(G(z));
    ``sigma``: a function step → instance-noise σ (Sønderby et al.; e.g.
    :func:`linear_decay`), None for none; ``real_label``: D's target for data, < 1 for
    one-sided label smoothing (Salimans et al. 2016).
    """
    for step in range(start, steps):             # for number of training iterations do
        s = sigma(step) if sigma is not None else 0.0
        for _ in range(k):                       # for k steps do
            x, z = real(), noise()               # m data samples, m noise samples
            loss_d, real_logits, fake_logits = discriminator_step(
                D, opt_d, x, generate_fakes(G, z), s, real_label)   # ascend V(D, G)
        loss_g = generator_step(G, D, opt_g, noise(),   # fresh m noise samples; descend
                                saturating, s)          # the generator's loss
        record = dict(loss_d=loss_d, loss_g=loss_g, d_real=mean(sigmoid(real_logits)),
                      d_fake=mean(sigmoid(fake_logits)))
        if sigma is not None:
            record["sigma"] = s
        yield record


def critic_iterations(step: int, n_critic: int, warmup: bool = True) -> int:
    """n_critic, or 100 for the first 25 generator steps and every 500th (WGAN reference code):
    the critic should be near-optimal when its estimate of W is used."""
    if warmup and (step < 25 or step % 500 == 0):
        return 100
    return n_critic


def wgan_loop(G, D, opt_g, opt_d, real, noise, *, steps: int, start: int = 0,
              n_critic: int = 5, clip: float = 0.01, warmup: bool = True):
    """Arjovsky et al. 2017, Algorithm 1 (weight clipping; RMSProp in the paper).

    ``warmup``: 100 critic steps for the first 25 generator steps and every 500th.
    """
    for step in range(start, steps):             # while θ has not converged do
        for _ in range(critic_iterations(step, n_critic, warmup)):   # for t = 0..n_critic
            x, z = real(), noise()
            w_loss, _, real_scores, fake_scores = critic_step(
                D, opt_d, x, generate_fakes(G, z), clip=clip)   # then w ← clip(w, −c, c)
        loss_g = critic_generator_step(G, D, opt_g, noise())    # θ ← θ − α·∇θ(−E f(G(z)))
        yield dict(loss_d=w_loss, loss_g=loss_g, wasserstein=-w_loss,  # −L_D ≈ K·W
                   d_real=mean(real_scores), d_fake=mean(fake_scores))


def wgan_gp_loop(G, D, opt_g, opt_d, real, noise, *, steps: int, start: int = 0,
                 n_critic: int = 5, gp_lambda: float = 10.0):
    """Gulrajani et al. 2017, Algorithm 1 (gradient penalty, Adam, no batch norm in the critic)."""
    for step in range(start, steps):             # while θ has not converged do
        for _ in range(n_critic):                # for t = 1..n_critic do
            x, z = real(), noise()
            w_loss, gp, real_scores, fake_scores = critic_step(
                D, opt_d, x, generate_fakes(G, z), gp_lambda=gp_lambda)  # L = W-loss + λ·gp
        loss_g = critic_generator_step(G, D, opt_g, noise())
        yield dict(loss_d=w_loss + gp_lambda * gp, loss_g=loss_g, wasserstein=-w_loss, gp=gp,
                   d_real=mean(real_scores), d_fake=mean(fake_scores))


LOOPS = {"gan": gan_loop, "dcgan": gan_loop, "wgan": wgan_loop, "wgan-gp": wgan_gp_loop}
