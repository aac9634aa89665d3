"""Adam (Kingma & Ba, 2015, Algorithm 1), written as PyTorch computes it.

Step t (counted per parameter) with gradient g:

    g ← g + λ θ                                        (L2 weight_decay λ: Adam)
    θ ← θ − lr·λ θ                                     (decoupled weight_decay λ: AdamW)
    m ← m + (1 − β1)(g − m)          = β1 m + (1 − β1) g
    v ← β2 v + (1 − β2) g²
    v̂max ← max(v̂max, v)                                 (amsgrad only; used instead of v)
    θ ← θ − (lr / (1 − β1ᵗ)) · m / (sqrt(v) / sqrt(1 − β2ᵗ) + ε)

The bias corrections are Python floats (double precision, as in PyTorch's
scalar path) and ε is added *after* dividing by sqrt(1 − β2ᵗ) — PyTorch's
placement, which differs slightly from the paper's ε̂ and matters for exact
trajectories.  DCGAN uses lr 2e-4, β1 = 0.5; WGAN-GP lr 1e-4, β = (0.5, 0.9)
(``tinygan.gan.config.PAPER_DEFAULTS``, from Gulrajani et al.'s code; their
paper's table lists β1 = 0).
"""
from __future__ import annotations

from .. import backend as B
from .._validate import betas_problem
from .optimizer import Optimizer


def lerp_(a, b, w: float) -> None:
    """a ← a + w (b − a) in place, with the two-sided formula ATen's ``lerp`` uses
    (|w| < 0.5: from a; otherwise from b), so rounding matches PyTorch."""
    if abs(w) < 0.5:
        a += w * (b - a)
    else:
        d = b - a
        d *= -(1.0 - w)
        d += b
        a[...] = d


class Adam(Optimizer):
    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _validate(self, group):
        self._check_common(group)
        problem = betas_problem(group["betas"])
        if problem is not None:
            raise ValueError(f"{type(self).__name__}: invalid {problem}")

    def _update(self, p, g, state, group):
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        xp = B.array_module(p)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_avg_sq"] = xp.zeros_like(p)
        # created when first needed (also when amsgrad is switched on mid-run), and only
        # then: no zeros allocated on the other steps
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = xp.zeros_like(p)
        state["step"] += 1
        t = state["step"]
        step_size = lr / (1.0 - beta1 ** t)
        bias_correction2_sqrt = (1.0 - beta2 ** t) ** 0.5

        decoupled = self.decoupled_weight_decay

        def update(p, g, m, v, *vmax):
            if wd != 0 and decoupled:      # AdamW: shrink θ, leave the moments alone
                p *= 1.0 - lr * wd
            elif wd != 0:
                g = g + wd * p
            lerp_(m, g, 1.0 - beta1)
            v *= beta2
            v += (1.0 - beta2) * g * g
            if vmax:
                xp.maximum(vmax[0], v, out=vmax[0])
                v = vmax[0]
            denom = xp.sqrt(v)
            denom /= bias_correction2_sqrt
            denom += eps
            p -= step_size * m / denom

        # Elementwise in p, g and the state: step() runs it on slices on the host threads,
        # with the one-thread update's bits (ops/_util.elementwise_jobs_on_threads).
        arrays = [p, g, state["exp_avg"], state["exp_avg_sq"]]
        if group["amsgrad"]:
            arrays.append(state["max_exp_avg_sq"])
        return update, tuple(arrays)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): θ ← θ(1 − lr·λ) before
    the Adam step, the moments computed from the gradient alone; PyTorch's default λ 0.01."""
    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
