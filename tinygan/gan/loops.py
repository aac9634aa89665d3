"""The training loops, each short enough to read beside its paper's algorithm.

Each loop takes a :class:`~tinygan.gan.train.Trainer` ``t`` that provides the
networks (``t.G``, ``t.D``), their optimisers, fresh noise (``t.noise()``,
m vectors z ~ N(0, I) on the device) and fresh data (``t.real()``, m samples
from p_data), and does the logging, checkpointing and NaN checks after every
iteration of ``for step in t.iterations()``.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor, no_grad
from ..ops import mean, sigmoid
from .losses import (critic_loss, discriminator_loss, generator_loss, gradient_penalty,
                     wasserstein_generator_loss)
from .train import frozen

__all__ = ["train_gan", "train_wgan", "train_wgan_gp", "add_instance_noise", "clip_weights",
           "critic_iterations", "LOOPS"]


def add_instance_noise(x: Tensor, sigma: float) -> Tensor:
    """x + ε, ε ~ N(0, σ² I): what D sees under instance noise (MATH.md §3, Sønderby et al.)."""
    if sigma <= 0:
        return x
    return x + Tensor._make(B.randn(x.shape, dtype=x.dtype) * sigma, False, None)


def train_gan(t) -> None:
    """Goodfellow et al. 2014, Algorithm 1 (GAN and DCGAN), with optional instance noise."""
    G, D, cfg = t.G, t.D, t.cfg
    for step in t.iterations():                  # n training iterations
        sigma = t.sigma()                        # instance noise σ (0 when off), annealed to 0
        for _ in range(cfg.k):                   # k discriminator steps, each on fresh batches
            x, z = t.real(), t.noise()           # m data samples, m noise samples
            with no_grad():
                fake = G(z)                      # G is fixed during D's steps
            real_logits = D(add_instance_noise(x, sigma))
            fake_logits = D(add_instance_noise(fake, sigma))
            loss_d = discriminator_loss(real_logits, fake_logits)  # −V(D, G): D ascends V
            t.update(t.opt_d, loss_d)
        z = t.noise()                            # one generator step on fresh noise
        with frozen(D):
            fake_logits_g = D(add_instance_noise(G(z), sigma))
            loss_g = generator_loss(fake_logits_g, saturating=cfg.saturating)
            t.update(t.opt_g, loss_g)
        t.record(loss_d=loss_d, loss_g=loss_g, d_real=mean(sigmoid(real_logits)),
                 d_fake=mean(sigmoid(fake_logits)), sigma=sigma)


def clip_weights(module, c: float) -> None:
    """WGAN: clamp every critic parameter to [−c, c] (keeps f in a compact, K-Lipschitz family)."""
    for p in module.parameters():
        p.data = B.array_module(p.data).clip(p.data, -c, c)


def critic_iterations(step: int, cfg) -> int:
    """n_critic, or 100 for the first 25 generator steps and every 500th (WGAN reference code):
    the critic should be near-optimal when its estimate of W is used."""
    if cfg.critic_warmup and (step < 25 or step % 500 == 0):
        return 100
    return cfg.n_critic


def train_wgan(t) -> None:
    """Arjovsky et al. 2017, Algorithm 1 (weight clipping, RMSProp)."""
    G, D, cfg = t.G, t.D, t.cfg
    for step in t.iterations():
        for _ in range(critic_iterations(step, cfg)):
            x, z = t.real(), t.noise()
            with no_grad():
                fake = G(z)
            real_scores, fake_scores = D(x), D(fake)
            loss_d = critic_loss(real_scores, fake_scores)  # E f(G(z)) − E f(x)
            t.update(t.opt_d, loss_d)
            clip_weights(D, cfg.clip)                        # w ← clip(w, −c, c)
        z = t.noise()
        with frozen(D):
            loss_g = wasserstein_generator_loss(D(G(z)))     # −E f(G(z))
            t.update(t.opt_g, loss_g)
        t.record(loss_d=loss_d, loss_g=loss_g, wasserstein=-loss_d,  # −L_D ≈ K·W(p_data, p_G)
                 d_real=mean(real_scores), d_fake=mean(fake_scores))


def train_wgan_gp(t) -> None:
    """Gulrajani et al. 2017, Algorithm 1 (gradient penalty, Adam, no batch norm in the critic)."""
    G, D, cfg = t.G, t.D, t.cfg
    for step in t.iterations():
        for _ in range(cfg.n_critic):
            x, z = t.real(), t.noise()
            with no_grad():
                fake = G(z)
            real_scores, fake_scores = D(x), D(fake)
            w_loss = critic_loss(real_scores, fake_scores)
            gp = gradient_penalty(D, x, fake)                 # E(‖∇f(x̂)‖ − 1)², x̂ on segments
            loss_d = w_loss + cfg.gp_lambda * gp
            t.update(t.opt_d, loss_d)
        z = t.noise()
        with frozen(D):
            loss_g = wasserstein_generator_loss(D(G(z)))
            t.update(t.opt_g, loss_g)
        t.record(loss_d=loss_d, loss_g=loss_g, wasserstein=-w_loss, gp=gp,
                 d_real=mean(real_scores), d_fake=mean(fake_scores))


LOOPS = {"gan": train_gan, "dcgan": train_gan, "wgan": train_wgan, "wgan-gp": train_wgan_gp}
