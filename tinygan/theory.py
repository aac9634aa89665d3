"""The analytic side of the GAN theory in ``MATH.md``, computed on the host.

Everything here is plain NumPy in float64 on 1-D grids (numerical quadrature
by the trapezoidal rule): it is the *reference* the demos compare the engine's
trained networks against, never part of training.  Each function cites the
equation of ``../shared/MATH.md`` it implements.

Conventions: a density is passed as its values on a grid ``x`` (a 1-D,
increasing array); integrals are ``∫ f(x) dx ≈ trapezoid(f, x)``.  Where a
density is zero we use the convention 0 · log 0 = 0 (the integrand's limit).

This module is the one home of the quadrature behind KL, JSD and W1 (:func:`kl`,
:func:`jsd`, :func:`jsd_integrand`, :func:`cdf_on_grid`, :func:`wasserstein1_quadrature`)
and of W1 between equal-size samples (:func:`wasserstein1_samples_1d`):
:mod:`tinygan.metrics.distance` checks and normalises its inputs (samples, KDEs,
histograms, callables) and calls these.  It imports nothing of tinygan, so metrics
may import it and not the other way round.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = [
    "LOG2", "LOG4", "grid", "integrate", "gaussian_pdf", "uniform_pdf", "mixture_pdf",
    "Density1D", "gaussian", "mixture", "optimal_discriminator", "value_at",
    "value_at_optimum", "virtual_training_criterion", "kl", "jsd", "jsd_entropy_form",
    "jsd_integrand", "cdf_on_grid", "wasserstein1_quadrature", "wasserstein1_samples_1d",
    "sliced_wasserstein",
    "jsd_segments", "wasserstein_segments", "segment_samples", "noisy_segment_pdf_x",
    "noisy_jsd_segments", "noisy_jsd_segments_2d", "jsd_small_shift", "saturating_grad_logit",
    "nonsaturating_grad_logit", "saturating_grad_d", "nonsaturating_grad_d", "rankdata",
    "spearman",
]

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)

_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 2 renamed trapz; setup.cfg: ≥ 1.22


# ---------------------------------------------------------------- quadrature
def grid(lo: float, hi: float, n: int = 20001) -> np.ndarray:
    """An evenly spaced quadrature grid on [lo, hi] (float64)."""
    if not hi > lo or n < 3:
        raise ValueError(f"grid: need hi > lo and n >= 3, got lo={lo}, hi={hi}, n={n}")
    return np.linspace(float(lo), float(hi), int(n))


def integrate(f, x) -> float:
    """∫ f(x) dx by the trapezoidal rule on grid ``x``."""
    f, x = np.asarray(f, dtype=np.float64), np.asarray(x, dtype=np.float64)
    if f.shape != x.shape:
        raise ValueError(f"integrate: integrand shape {f.shape} != grid shape {x.shape}")
    return float(_trapezoid(f, x))


def _xlogy(a, b):
    """a · log b with 0 · log 0 = 0 (the limit used in every KL/JSD integrand)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    out = np.zeros(np.broadcast(a, b).shape)
    pos = np.broadcast_to(a > 0, out.shape)
    out[pos] = (np.broadcast_to(a, out.shape)[pos]
                * np.log(np.broadcast_to(b, out.shape)[pos]))
    return out


# ---------------------------------------------------------------- 1-D densities
def gaussian_pdf(x, mean: float = 0.0, std: float = 1.0):
    """N(x; μ, σ²) = exp(−(x − μ)² / 2σ²) / (σ √(2π))."""
    if not std > 0:
        raise ValueError(f"gaussian_pdf: std must be positive, got {std!r}")
    z = (np.asarray(x, dtype=np.float64) - mean) / std
    return np.exp(-0.5 * z * z) / (std * math.sqrt(2.0 * math.pi))


def uniform_pdf(x, lo: float, hi: float):
    """U(x; [lo, hi]) = 1/(hi − lo) on the interval, 0 outside."""
    if not hi > lo:
        raise ValueError(f"uniform_pdf: need hi > lo, got [{lo}, {hi}]")
    x = np.asarray(x, dtype=np.float64)
    return np.where((x >= lo) & (x <= hi), 1.0 / (hi - lo), 0.0)


def mixture_pdf(x, weights, means, stds):
    """Σ_k w_k N(x; μ_k, σ_k²) — a 1-D Gaussian mixture."""
    w = np.asarray(weights, dtype=np.float64)
    if not (len(w) == len(means) == len(stds)) or (w < 0).any() or not np.isclose(w.sum(), 1):
        raise ValueError(f"mixture_pdf: need as many weights (summing to 1) as means and stds, "
                         f"got weights={list(weights)}, means={list(means)}, stds={list(stds)}")
    return sum(wk * gaussian_pdf(x, m, s) for wk, m, s in zip(w, means, stds))


class Density1D:
    """A 1-D Gaussian mixture that can both be evaluated (``pdf``) and sampled.

    The demos need both faces of one distribution: samples to train a network
    on, the density to compute D*, V and JSD by quadrature.
    """

    def __init__(self, weights, means, stds, name: str = ""):
        self.weights = np.asarray(weights, dtype=np.float64)
        self.means = np.asarray(means, dtype=np.float64)
        self.stds = np.asarray(stds, dtype=np.float64)
        mixture_pdf(0.0, self.weights, self.means, self.stds)  # validates
        self.name = name or " + ".join(f"{w:g}·N({m:g}, {s:g}²)" for w, m, s in
                                       zip(self.weights, self.means, self.stds))

    def pdf(self, x):
        return mixture_pdf(x, self.weights, self.means, self.stds)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n samples as a float32 (n, 1) array (the engine's default dtype)."""
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        x = self.means[k] + self.stds[k] * rng.standard_normal(n)
        return x.astype(np.float32).reshape(n, 1)

    def support(self, width: float = 5.0):
        """An interval holding all but a negligible mass: [min μ − wσ, max μ + wσ]."""
        return (float(np.min(self.means - width * self.stds)),
                float(np.max(self.means + width * self.stds)))

    def __repr__(self):
        return f"Density1D({self.name})"


def gaussian(mean: float, std: float) -> Density1D:
    return Density1D([1.0], [mean], [std])


def mixture(weights, means, stds) -> Density1D:
    return Density1D(weights, means, stds)


# ---------------------------------------------------------------- §1 GAN
def optimal_discriminator(p_data, p_g):
    """D*_G(x) = p_data(x) / (p_data(x) + p_G(x))   (MATH.md §1, Goodfellow Prop. 1).

    Where both densities vanish D* is arbitrary (it does not enter V); we
    return 1/2 there.
    """
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    s = p_data + p_g
    return np.where(s > 0, p_data / np.where(s > 0, s, 1.0), 0.5)


def value_at(d, p_data, p_g, x) -> float:
    """V(D, G) = ∫ p_data log D + p_G log(1 − D) dx for a given D(x) on grid x (MATH.md §1)."""
    d = np.asarray(d, dtype=np.float64)
    return integrate(_xlogy(p_data, d) + _xlogy(p_g, 1.0 - d), x)


def value_at_optimum(p_data, p_g, x) -> float:
    """V(D*_G, G) by quadrature, with D* = p_data/(p_data + p_G) plugged in (MATH.md §1).

    Written in terms of D* only, not of JSD, so that comparing it with
    ``2·jsd − log 4`` checks Goodfellow's Theorem 1 rather than an identity.
    """
    p_data, p_g = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    s = np.where(p_data + p_g > 0, p_data + p_g, 1.0)
    # D* = p_data/s and 1 − D* = p_G/s, each formed directly: 1 − D* computed as a
    # difference would round to 0 where p_G ≪ p_data and give log 0 = −inf.
    return integrate(_xlogy(p_data, p_data / s) + _xlogy(p_g, p_g / s), x)


def virtual_training_criterion(p_data, p_g, x) -> float:
    """C(G) = max_D V(D, G) = V(D*_G, G)   (MATH.md §1; Goodfellow eq. 4)."""
    return value_at_optimum(p_data, p_g, x)


def kl(p, q, x) -> float:
    """KL(p ‖ q) = ∫ p log(p / q) dx by quadrature (inf if p > 0 where q = 0)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if np.any((p > 0) & (q <= 0)):
        return math.inf
    return integrate(_xlogy(p, p) - _xlogy(p, q), x)


def jsd(p, q, x) -> float:
    """JSD(p ‖ q) = ½ KL(p ‖ M) + ½ KL(q ‖ M), M = (p + q)/2   (MATH.md §1).

    In nats: 0 ≤ JSD ≤ log 2, with log 2 exactly when the supports are disjoint.
    """
    return integrate(jsd_integrand(p, q), x)


def jsd_integrand(p, q):
    """½ p log(p/M) + ½ q log(q/M), M = (p + q)/2, pointwise (0 · log 0 = 0).

    Integrated on a grid it is :func:`jsd`; summed over histogram masses it is the
    discrete JSD (``tinygan.metrics.jsd_1d(method="hist")``).  M > 0 wherever p > 0
    or q > 0, so every log is finite.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    return 0.5 * (_xlogy(p, p) - _xlogy(p, m)) + 0.5 * (_xlogy(q, q) - _xlogy(q, m))


def jsd_entropy_form(p, q, x) -> float:
    """JSD = H(M) − ½ (H(p) + H(q)), with H the differential entropy (a second, independent route)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    h = lambda f: -integrate(_xlogy(f, f), x)  # noqa: E731
    return h(m) - 0.5 * (h(p) + h(q))


# ---------------------------------------------------------------- §4 Wasserstein-1
def wasserstein1_quadrature(p, q, x) -> float:
    """W(p, q) = ∫ |F_p(x) − F_q(x)| dx for 1-D densities (MATH.md §4; the 1-D closed form)."""
    return integrate(np.abs(cdf_on_grid(p, x) - cdf_on_grid(q, x)), x)


def cdf_on_grid(f, x) -> np.ndarray:
    """F(x_i) = ∫_{x_0}^{x_i} f dx by the cumulative trapezoidal rule (F(x_0) = 0)."""
    f, x = np.asarray(f, dtype=np.float64), np.asarray(x, dtype=np.float64)
    return np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))])


def wasserstein1_samples_1d(a, b) -> float:
    """W1 between two equal-size 1-D samples: mean |a_(i) − b_(i)| of the sorted samples."""
    a, b = np.sort(np.ravel(a)), np.sort(np.ravel(b))
    if a.shape != b.shape:
        raise ValueError(f"wasserstein1_samples_1d: need equal sample sizes, got {a.size} "
                         f"and {b.size}")
    return float(np.mean(np.abs(a - b)))


def sliced_wasserstein(a, b, n_projections: int = 64, seed: int = 0) -> float:
    """Sliced W1: the mean over random unit directions u of W1(⟨a, u⟩, ⟨b, u⟩).

    A cheap sample-quality measure in d > 1 (it is a metric on distributions);
    used by demo 7 next to the critic's estimate of W.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    if a.shape != b.shape:
        raise ValueError(f"sliced_wasserstein: samples must have equal shapes, got {a.shape} "
                         f"and {b.shape}")
    u = np.random.default_rng(seed).standard_normal((a.shape[1], n_projections))
    u /= np.linalg.norm(u, axis=0, keepdims=True)
    pa, pb = np.sort(a @ u, axis=0), np.sort(b @ u, axis=0)
    return float(np.mean(np.abs(pa - pb)))


# ---------------------------------------------------------------- the disjoint segments
def jsd_segments(theta):
    """JSD(p_0, p_θ) for p_θ = U({θ} × [0, 1]): log 2 if θ ≠ 0 else 0 (MATH.md §4, WGAN Ex. 1)."""
    theta = np.asarray(theta, dtype=np.float64)
    return np.where(theta != 0, LOG2, 0.0)


def wasserstein_segments(theta):
    """W(p_0, p_θ) = |θ| (MATH.md §4, WGAN Ex. 1): move every point (0, y) to (θ, y)."""
    return np.abs(np.asarray(theta, dtype=np.float64))


def segment_samples(n: int, theta: float, rng: np.random.Generator) -> np.ndarray:
    """n samples of p_θ = U({θ} × [0, 1]) as a float32 (n, 2) array."""
    y = rng.random(n)
    return np.stack([np.full(n, float(theta)), y], axis=1).astype(np.float32)


def noisy_segment_pdf_x(x, theta: float, sigma: float):
    """x-marginal of p_θ * N(0, σ² I): N(x; θ, σ²)   (MATH.md §3 applied to WGAN Ex. 1).

    The noisy density factorises, p_{θ+ε}(x, y) = N(x; θ, σ²) · h_σ(y) with
    h_σ(y) = Φ(y/σ) − Φ((y − 1)/σ) the same for every θ, so h cancels inside
    every log-ratio and JSD(p_0+ε, p_θ+ε) = JSD(N(0, σ²), N(θ, σ²)).
    """
    return gaussian_pdf(x, theta, sigma)


def noisy_jsd_segments(theta, sigma: float, n: int = 8001, width: float = 10.0):
    """JSD(p_0 + ε, p_θ + ε), ε ~ N(0, σ² I), by 1-D quadrature (MATH.md §3)."""
    if not sigma > 0:
        raise ValueError(f"noisy_jsd_segments: sigma must be positive, got {sigma!r}")
    thetas = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    out = np.empty_like(thetas)
    for i, t in enumerate(thetas):  # one quadrature per θ (a handful of θ values, not data)
        x = grid(min(0.0, t) - width * sigma, max(0.0, t) + width * sigma, n)
        out[i] = jsd(noisy_segment_pdf_x(x, 0.0, sigma), noisy_segment_pdf_x(x, t, sigma), x)
    return out if np.ndim(theta) else float(out[0])


def noisy_jsd_segments_2d(theta: float, sigma: float, n: int = 801, width: float = 8.0) -> float:
    """The same JSD by brute-force 2-D quadrature of the full noisy densities (no factorisation).

    p_{θ+ε}(x, y) = N(x; θ, σ²) · (Φ(y/σ) − Φ((y − 1)/σ)): the convolution of the
    segment with the Gaussian.  Used to check :func:`noisy_jsd_segments`.
    """
    from math import erf
    erf_v = np.vectorize(erf)
    xs = grid(min(0.0, theta) - width * sigma, max(0.0, theta) + width * sigma, n)
    ys = grid(-width * sigma, 1.0 + width * sigma, n)
    phi = lambda t: 0.5 * (1.0 + erf_v(t / math.sqrt(2.0)))  # noqa: E731
    h = phi(ys / sigma) - phi((ys - 1.0) / sigma)
    p = gaussian_pdf(xs, 0.0, sigma)[:, None] * h[None, :]
    q = gaussian_pdf(xs, theta, sigma)[:, None] * h[None, :]
    return float(_trapezoid(_trapezoid(jsd_integrand(p, q), ys, axis=1), xs))


def jsd_small_shift(theta, sigma: float):
    """Small-θ limit JSD(N(0, σ²), N(θ, σ²)) ≈ θ² / (8σ²) (JSD ≈ ⅛ · Fisher information · θ²)."""
    return np.asarray(theta, dtype=np.float64) ** 2 / (8.0 * sigma * sigma)


# ---------------------------------------------------------------- saturating vs non-saturating
def saturating_grad_logit(d):
    """|∂/∂a log(1 − σ(a))| = D: the minimax loss's gradient w.r.t. D's logit (MATH.md §1).

    It vanishes as D(G(z)) → 0, i.e. exactly when D confidently rejects G's samples.
    """
    return np.asarray(d, dtype=np.float64)


def nonsaturating_grad_logit(d):
    """|∂/∂a (−log σ(a))| = 1 − D: the non-saturating loss's gradient w.r.t. the logit (§1)."""
    return 1.0 - np.asarray(d, dtype=np.float64)


def saturating_grad_d(d):
    """|∂/∂D log(1 − D)| = 1/(1 − D) (bounded by 1 near D = 0: no help early on)."""
    return 1.0 / (1.0 - np.asarray(d, dtype=np.float64))


def nonsaturating_grad_d(d):
    """|∂/∂D (−log D)| = 1/D (large near D = 0: strong gradient early on)."""
    return 1.0 / np.asarray(d, dtype=np.float64)


# ---------------------------------------------------------------- rank correlation
def rankdata(a) -> np.ndarray:
    """Ranks 1..n of a 1-D array, ties given their average rank."""
    a = np.asarray(a, dtype=np.float64).ravel()
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(1, len(a) + 1, dtype=np.float64)
    _, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    return sums[inv] / counts[inv]


def spearman(a, b) -> float:
    """Spearman's rank correlation: Pearson's correlation of the (average) ranks."""
    ra, rb = rankdata(a), rankdata(b)
    if ra.shape != rb.shape or len(ra) < 2:
        raise ValueError(f"spearman: need two sequences of equal length >= 2, got {len(ra)} "
                         f"and {len(rb)}")
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = math.sqrt(float(ra @ ra) * float(rb @ rb))
    if den == 0:
        raise ValueError("spearman: a constant sequence has no rank correlation")
    return float(ra @ rb) / den
