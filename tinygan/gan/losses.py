"""GAN objectives, all from logits / raw critic scores (MATH.md §1, §4, §5).

Notation: ``real_logits`` = a(x) for data x, ``fake_logits`` = a(G(z));
D = σ(a), so log D = −softplus(−a) and log(1 − D) = −softplus(a).
Every loss here is *minimised*.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor, grad
from ..ops import mean, softplus, sqrt, sum


def value_function(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]  (MATH.md §1, Goodfellow eq. 1)."""
    return -(mean(softplus(-real_logits)) + mean(softplus(fake_logits)))


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor,
                       real_label: float = 1.0) -> Tensor:
    """L_D = −V(D, G): D *ascends* V (Algorithm 1), i.e. minimises −V.

    ``real_label`` t < 1 is one-sided label smoothing (Salimans et al. 2016, §3.4): D's
    target for data is t instead of 1 and for G(z) still 0, i.e. the cross-entropy
    −E_x[t log D(x) + (1 − t) log(1 − D(x))] − E_z[log(1 − D(G(z)))].  Per logit a,
    −t log σ(a) − (1 − t) log(1 − σ(a)) = softplus(−a) + (1 − t)·a, so the data term is
    −V's plus (1 − t)·E_x[a(x)].  The optimum becomes D*(x) = t·p_data / (p_data + p_G):
    D is kept from certainty on data, and where p_data = 0 (where G's samples must move
    from) D* stays 0 — smoothing the fake label too would not keep that (the paper's
    reason for one side only).
    """
    loss = -value_function(real_logits, fake_logits)
    if real_label == 1.0:
        return loss
    return loss + (1.0 - real_label) * mean(real_logits)


def generator_loss(fake_logits: Tensor, saturating: bool = False) -> Tensor:
    """Generator loss (MATH.md §1).

    * saturating / minimax (Algorithm 1 as written):  E_z[log(1 − D(G(z)))] = −E[softplus(a)]
    * non-saturating (paper §3, the default):         −E_z[log D(G(z))]     =  E[softplus(−a)]
    """
    if saturating:
        return -mean(softplus(fake_logits))
    return mean(softplus(-fake_logits))


def critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """WGAN critic loss L_D = E_z[f(G(z))] − E_x[f(x)]; −L_D estimates K·W (MATH.md §4)."""
    return mean(fake_scores) - mean(real_scores)


def wasserstein_generator_loss(fake_scores: Tensor) -> Tensor:
    """WGAN generator loss L_G = −E_z[f(G(z))]  (MATH.md §4)."""
    return -mean(fake_scores)


def interpolates(real: Tensor, fake: Tensor) -> Tensor:
    """x̂ = ε x + (1 − ε) G(z), one ε ~ U[0, 1] per sample (MATH.md §5)."""
    if real.shape != fake.shape:
        raise ValueError(f"interpolates: real batch {real.shape} and fake batch {fake.shape} "
                         f"must have the same shape")
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = Tensor._make(B.rand(eps_shape, dtype=real.dtype), False, None)
    return (real.detach() * eps + fake.detach() * (1.0 - eps)).requires_grad_(True)


def gradient_penalty(critic, real: Tensor, fake: Tensor, x_hat: Tensor = None) -> Tensor:
    """E[(‖∇_x̂ f(x̂)‖₂ − 1)²] at random interpolates (WGAN-GP, MATH.md §5).

    The gradient is taken with ``create_graph=True`` so the penalty can itself
    be differentiated w.r.t. the critic's weights (double backprop).  Norms are
    per sample, over all non-batch axes.  Multiply by λ outside.
    """
    if x_hat is None:
        x_hat = interpolates(real, fake)
    scores = critic(x_hat)
    (g,) = grad(scores.sum(), x_hat, create_graph=True)
    axes = tuple(range(1, g.ndim))
    norms = sqrt(sum(g * g, axis=axes) + 1e-12)
    return mean((norms - 1.0) ** 2)
