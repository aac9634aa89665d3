"""Toy distributions for GAN experiments, sampled on the fly on the host.

Every dataset is an object with

* ``sample(n, rng)`` → float32 NumPy array of shape (n, dim); ``rng`` is a
  ``numpy.random.Generator`` (or an int seed).  Sampling is host-side so a run
  is reproducible independently of the backend; the training loop moves the
  batch to the device.
* ``dim``, ``centers`` (K, dim) and ``std`` — what the mode metrics need
  (:func:`tinygan.metrics.mode_metrics`); the swiss roll has no modes
  (``centers is None``).
* ``log_density(x)`` / ``density(x)`` for the Gaussian mixtures (analytic;
  the 1-D demos plot p_data and integrate the JSD with it).

The 2-D mixtures are the VEEGAN / PacGAN benchmarks: ``ring8`` — 8 Gaussians
on a circle of radius 2 with std 0.02; ``grid25`` — 25 Gaussians at
{−4, −2, 0, 2, 4}² with std 0.05.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["GaussianMixture", "SwissRoll", "gaussian1d", "mixture1d", "ring8", "grid25",
           "swissroll", "TOY_DATASETS", "get_dataset", "as_rng"]


def as_rng(rng) -> np.random.Generator:
    """A NumPy Generator from a Generator, an int seed or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got "
                    f"{type(rng).__name__}")


def _check_n(n) -> int:
    if int(n) != n or n < 0:
        raise ValueError(f"sample: n must be a non-negative integer, got {n!r}")
    return int(n)


class GaussianMixture:
    """Mixture of isotropic Gaussians: p(x) = Σ_k w_k N(x; μ_k, σ² I)."""

    def __init__(self, name: str, centers, std: float, weights=None):
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or centers.shape[0] < 1:
            raise ValueError(f"{name}: centers must have shape (K, dim), got {centers.shape}")
        if not std > 0:
            raise ValueError(f"{name}: std must be positive, got {std!r}")
        k = centers.shape[0]
        w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (k,) or (w < 0).any() or not np.isclose(w.sum(), 1.0):
            raise ValueError(f"{name}: weights must be {k} non-negative numbers summing to 1, "
                             f"got {weights!r}")
        self.name, self.centers, self.std, self.weights = name, centers, float(std), w
        self.dim = centers.shape[1]

    def sample(self, n, rng=None) -> np.ndarray:
        n, rng = _check_n(n), as_rng(rng)
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        noise = rng.standard_normal((n, self.dim))
        return (self.centers[k] + self.std * noise).astype(np.float32)

    def log_density(self, x) -> np.ndarray:
        """log p(x) for x of shape (M, dim) (or (M,) when dim = 1), via log-sum-exp."""
        x = np.asarray(x, dtype=np.float64)
        if self.dim == 1 and x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{self.name}.log_density: expected points of shape (M, {self.dim}),"
                             f" got {x.shape}")
        sq = ((x[:, None, :] - self.centers[None, :, :]) ** 2).sum(-1)  # (M, K)
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        log_norm = -0.5 * self.dim * math.log(2 * math.pi * self.std ** 2)
        terms = log_w[None, :] + log_norm - sq / (2 * self.std ** 2)
        top = terms.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(terms - top).sum(axis=1, keepdims=True)))[:, 0]

    def density(self, x) -> np.ndarray:
        return np.exp(self.log_density(x))

    def __repr__(self):
        return (f"GaussianMixture({self.name!r}, K={len(self.centers)}, dim={self.dim}, "
                f"std={self.std})")


class SwissRoll:
    """The 2-D swiss roll: t ~ U[1.5π, 4.5π], x = (t cos t, t sin t)·scale + N(0, noise²).

    ``scale`` = 1/5 brings it to about [−2.8, 2.8]², the range of the other toys.
    It has no discrete modes, so ``centers`` is None; ``std`` is the noise level.
    """

    dim = 2
    centers = None

    def __init__(self, noise: float = 0.05, scale: float = 0.2):
        self.name, self.std, self.scale = "swissroll", float(noise), float(scale)

    t_range = (1.5 * math.pi, 4.5 * math.pi)

    def _points(self, t) -> np.ndarray:
        return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) * self.scale

    def sample(self, n, rng=None) -> np.ndarray:
        n, rng = _check_n(n), as_rng(rng)
        t = self.t_range[0] * (1.0 + 2.0 * rng.random(n))  # uniform on t_range (t1 = 3·t0)
        return (self._points(t) + self.std * rng.standard_normal((n, 2))).astype(np.float32)

    def curve(self, n: int = 8192):
        """(t, points): ``n`` parameter values evenly spaced over ``t_range`` and the
        noiseless roll at them (float64), for :func:`tinygan.metrics.curve_metrics` and the
        figures.  The default's points lie at most 0.0033 apart (scale 0.2), a fifteenth of
        the noise σ = 0.05."""
        t = np.linspace(*self.t_range, int(n))
        return t, self._points(t)

    def __repr__(self):
        return f"SwissRoll(noise={self.std}, scale={self.scale})"


def gaussian1d(mean: float = 2.0, std: float = 0.5) -> GaussianMixture:
    """One 1-D Gaussian N(mean, std²) (default N(2, 0.5²): away from G's initial output ≈ 0)."""
    return GaussianMixture("gaussian1d", [[mean]], std)


def mixture1d(means=(-2.0, 2.0), std: float = 0.5, weights=None) -> GaussianMixture:
    """A 1-D Gaussian mixture (default: two equal modes at ±2, std 0.5)."""
    return GaussianMixture("mixture1d", np.asarray(means, dtype=np.float64)[:, None], std, weights)


def ring8(radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """8 Gaussians evenly spaced on a circle (VEEGAN / PacGAN 2-D ring)."""
    angles = 2 * math.pi * np.arange(8) / 8
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture("ring8", centers, std)


def grid25(spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """25 Gaussians on the grid {−4, −2, 0, 2, 4}² (VEEGAN / PacGAN 2-D grid)."""
    ticks = spacing * np.arange(-2, 3)
    gx, gy = np.meshgrid(ticks, ticks, indexing="ij")
    return GaussianMixture("grid25", np.stack([gx.ravel(), gy.ravel()], axis=1), std)


def swissroll(noise: float = 0.05) -> SwissRoll:
    return SwissRoll(noise)


#: name → factory of the default dataset of that name
TOY_DATASETS = {
    "gaussian1d": gaussian1d,
    "mixture1d": mixture1d,
    "ring8": ring8,
    "grid25": grid25,
    "swissroll": swissroll,
}


def get_dataset(name: str):
    """The toy dataset called ``name`` (see ``TOY_DATASETS``), with its default parameters."""
    try:
        factory = TOY_DATASETS[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown toy dataset {name!r}; choose one of "
                         f"{', '.join(TOY_DATASETS)}") from None
    return factory()
