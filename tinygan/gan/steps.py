"""One optimisation step of each player, the pieces every GAN loop is made of.

A loop in :mod:`tinygan.gan.loops` is its paper's algorithm written with these;
a demo that studies one step in isolation (a discriminator trained against a
fixed generator, a critic's gradient as it improves) calls them directly.
Each step draws nothing itself: it is given its batches, so the caller decides
where data and noise come from.
"""
from __future__ import annotations

import contextlib

from .. import backend as B
from ..autograd import Tensor, no_grad
from .losses import (critic_loss, discriminator_loss, generator_loss, gradient_penalty,
                     wasserstein_generator_loss)

__all__ = ["gradient_step", "frozen", "add_instance_noise", "clip_weights",
           "discriminator_step", "generator_step", "critic_step", "critic_generator_step",
           "generate_fakes"]


def gradient_step(optimizer, loss: Tensor) -> Tensor:
    """One gradient step on ``loss``: zero the gradients, backpropagate, step. Returns ``loss``."""
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


@contextlib.contextmanager
def frozen(module):
    """Hold ``module``'s weights fixed: inside, its parameters get no gradient.

    The generator's step differentiates *through* D but must not move it
    (Algorithm 1 updates θ_g only); freezing also saves D's weight gradients.
    Call ``backward`` inside the block (requires_grad is read during backward).
    """
    params = list(module.parameters())
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad = False
    try:
        yield module
    finally:
        for p, f in zip(params, flags):
            p.requires_grad = f


def add_instance_noise(x: Tensor, sigma: float) -> Tensor:
    """x + ε, ε ~ N(0, σ² I): what D sees under instance noise (MATH.md §3, Sønderby et al.)."""
    if sigma <= 0:
        return x
    return x + Tensor._make(B.randn(x.shape, dtype=x.dtype) * sigma, False, None)


def clip_weights(module, c: float) -> None:
    """WGAN: clamp every critic parameter to [−c, c] (keeps f in a compact, K-Lipschitz family)."""
    for p in module.parameters():
        p.data = B.array_module(p.data).clip(p.data, -c, c)


def generate_fakes(G, z: Tensor) -> Tensor:
    """G(z) as a constant: G is fixed during the discriminator's steps (no graph through G)."""
    with no_grad():
        return G(z)


def discriminator_step(D, opt_d, x: Tensor, fake: Tensor, sigma: float = 0.0,
                       real_label: float = 1.0):
    """D ascends V(D, G) = E log D(x) + E log(1 − D(G(z))) by descending −V (MATH.md §1).

    ``fake`` is a batch of G(z) (a constant, see :func:`generate_fakes`); under
    instance noise both batches get fresh N(0, σ² I); ``real_label`` < 1 is one-sided
    label smoothing (:func:`~tinygan.gan.losses.discriminator_loss`).  Returns
    (loss, real_logits, fake_logits).
    """
    real_logits = D(add_instance_noise(x, sigma))
    fake_logits = D(add_instance_noise(fake, sigma))
    loss = gradient_step(opt_d, discriminator_loss(real_logits, fake_logits, real_label))
    return loss, real_logits, fake_logits


def generator_step(G, D, opt_g, z: Tensor, saturating: bool = False, sigma: float = 0.0):
    """G descends log(1 − D(G(z))) (saturating) or −log D(G(z)) (non-saturating, paper §3),
    through a frozen D.  Returns the loss."""
    with frozen(D):
        logits = D(add_instance_noise(G(z), sigma))
        return gradient_step(opt_g, generator_loss(logits, saturating=saturating))


def critic_step(D, opt_d, x: Tensor, fake: Tensor, clip: float = None, gp_lambda: float = None):
    """The critic f descends E f(G(z)) − E f(x), so that −loss estimates K·W(p_data, p_G).

    ``clip``: WGAN's weight clipping to [−c, c] after the step (Arjovsky et al.,
    Algorithm 1); ``gp_lambda``: WGAN-GP's penalty λ·E(‖∇f(x̂)‖ − 1)² added to
    the loss (Gulrajani et al., Algorithm 1).  Returns (wasserstein_loss,
    penalty or None, real_scores, fake_scores); the loss stepped on is their
    sum λ·penalty + wasserstein_loss.
    """
    real_scores, fake_scores = D(x), D(fake)
    w_loss = critic_loss(real_scores, fake_scores)       # E f(G(z)) − E f(x)
    gp = None
    if gp_lambda is not None:
        gp = gradient_penalty(D, x, fake)                 # x̂ on segments between x and G(z)
        gradient_step(opt_d, w_loss + gp_lambda * gp)
    else:
        gradient_step(opt_d, w_loss)
    if clip is not None:
        clip_weights(D, clip)                             # w ← clip(w, −c, c)
    return w_loss, gp, real_scores, fake_scores


def critic_generator_step(G, D, opt_g, z: Tensor) -> Tensor:
    """G descends −E f(G(z)) through a frozen critic (WGAN, WGAN-GP).  Returns the loss."""
    with frozen(D):
        return gradient_step(opt_g, wasserstein_generator_loss(D(G(z))))
