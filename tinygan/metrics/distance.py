"""Distances between 1-D distributions: Jensen–Shannon and Wasserstein-1.

* JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q)/2, in nats: 0 iff
  p = q, log 2 when the supports are disjoint (MATH.md §1, §3).  From samples
  it is estimated by a Gaussian kernel density estimate (or a histogram)
  evaluated on a grid and integrated numerically.
* W1(p, q) = ∫ |F_p(x) − F_q(x)| dx (MATH.md §4).  Between two empirical
  distributions this integral of step functions is computed **exactly** from
  the sorted pooled samples — no binning.

Every function takes host arrays (``tinygan.to_numpy`` device arrays first)
and works in float64.  The quadrature itself (KL, JSD, CDFs, W1 of densities on
a grid, W1 of equal-size samples) is :mod:`tinygan.theory`'s; this module checks
the inputs, builds the densities (KDE, histogram) and normalises them.
"""
from __future__ import annotations

import math

import numpy as np

from .. import theory

__all__ = ["jsd_1d", "jsd_from_densities", "kl_from_densities", "wasserstein1_1d",
           "wasserstein1_from_densities", "kde_1d", "silverman_bandwidth"]

def _samples_1d(x, who, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{who}: {name} must be a non-empty 1-D array (or shape (N, 1)), "
                         f"got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{who}: {name} contains NaN or inf")
    return x


def _grid(grid, who):
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size < 2 or not (np.diff(grid) > 0).all():
        raise ValueError(f"{who}: grid must be a strictly increasing 1-D array of at least 2 "
                         f"points, got shape {grid.shape}")
    return grid


def _density_on(q, grid):
    """Values of q on the grid: q is an array of values, a callable, or a dataset with .density."""
    fn = getattr(q, "density", q)
    vals = np.asarray(fn(grid) if callable(fn) else fn, dtype=np.float64).reshape(-1)
    if vals.shape != grid.shape:
        raise ValueError(f"density values have shape {vals.shape}, grid has {grid.shape}")
    if (vals < 0).any() or not np.isfinite(vals).all():
        raise ValueError("density values must be finite and non-negative")
    return vals


def _normalise(vals, grid, who, name):
    mass = theory.integrate(vals, grid)
    if not mass > 0:
        raise ValueError(f"{who}: {name} has no mass on the grid [{grid[0]:.4g}, {grid[-1]:.4g}]")
    return vals / mass


def silverman_bandwidth(x) -> float:
    """Silverman's rule of thumb 0.9 · min(sd, IQR/1.34) · n^(−1/5)."""
    x = np.asarray(x, dtype=np.float64)
    q75, q25 = np.percentile(x, [75, 25])
    spread = min(x.std(), (q75 - q25) / 1.34) or x.std()
    return 0.9 * spread * len(x) ** -0.2


def kde_1d(samples, grid, bandwidth: float) -> np.ndarray:
    """Gaussian kernel density estimate of ``samples`` at the grid points.

    Evaluated in chunks of samples so the (grid × chunk) matrix stays ~16 MB.
    """
    samples, grid = np.asarray(samples, np.float64), np.asarray(grid, np.float64)
    out = np.zeros_like(grid)
    chunk = max(1, 2_000_000 // len(grid))
    for start in range(0, len(samples), chunk):
        z = (grid[:, None] - samples[None, start:start + chunk]) / bandwidth
        out += np.exp(-0.5 * z * z).sum(axis=1)
    return out / (len(samples) * bandwidth * math.sqrt(2 * math.pi))


def kl_from_densities(p, q, grid) -> float:
    """KL(p ‖ q) = ∫ p log(p/q) by the trapezoid rule (0 log 0 = 0; inf where q = 0 < p)."""
    grid = _grid(grid, "kl_from_densities")
    p = _normalise(_density_on(p, grid), grid, "kl_from_densities", "p")
    q = _normalise(_density_on(q, grid), grid, "kl_from_densities", "q")
    return theory.kl(p, q, grid)


def jsd_from_densities(p, q, grid) -> float:
    """JSD(p ‖ q) in nats by quadrature on ``grid``; p and q are values on it or callables.

    Both are renormalised to integrate to 1 on the grid, so the grid must cover
    their mass.  Result in [0, log 2].
    """
    grid = _grid(grid, "jsd_from_densities")
    p = _normalise(_density_on(p, grid), grid, "jsd_from_densities", "p")
    q = _normalise(_density_on(q, grid), grid, "jsd_from_densities", "q")
    return _clip_jsd(theory.jsd(p, q, grid))


def _clip_jsd(value: float) -> float:
    """Round-off (quadrature or summation) can leave JSD a hair outside [0, log 2]."""
    return min(max(float(value), 0.0), theory.LOG2)


def _jsd_discrete(p, q) -> float:
    """JSD of two histograms: the pointwise JSD terms of the bin masses, summed."""
    return _clip_jsd(theory.jsd_integrand(p / p.sum(), q / q.sum()).sum())


def jsd_1d(samples_p, q, grid=None, method: str = "kde", bandwidth: float | None = None,
           bins: int = 100, n_grid: int = 2001) -> float:
    """JSD (nats) between the distribution of ``samples_p`` and ``q``.

    ``q`` is either samples (a 1-D array) or a density: a callable on a grid,
    or an object with ``.density`` (e.g. ``tinygan.data.gaussian1d()``; its
    ``centers``/``std`` then set the default grid so that mass the samples miss
    — a dropped mode — still counts).

    ``method="kde"``: Gaussian KDE with ``bandwidth`` (default Silverman's rule,
    the same for both sample sets) on ``n_grid`` points; ``method="hist"``:
    ``bins`` equal-width bins over the grid's range.  The result is an estimate:
    identical sample sets give exactly 0, well-separated ones log 2.
    """
    who = "jsd_1d"
    p = _samples_1d(samples_p, who, "samples_p")
    q_is_density = callable(q) or hasattr(q, "density")
    q_samples = None if q_is_density else _samples_1d(q, who, "q")
    if method not in ("kde", "hist"):
        raise ValueError(f"{who}: method must be 'kde' or 'hist', got {method!r}")
    pooled = p if q_samples is None else np.concatenate([p, q_samples])
    if bandwidth is None:
        bandwidth = silverman_bandwidth(pooled) if method == "kde" else 0.0
        if method == "kde" and not bandwidth > 0:  # all samples equal: any width will do
            bandwidth = 1e-3 * max(1.0, abs(pooled[0]))
    elif not bandwidth > 0:
        raise ValueError(f"{who}: bandwidth must be positive, got {bandwidth!r}")
    if grid is None:
        lo, hi = pooled.min(), pooled.max()
        if q_is_density:
            centers, std = getattr(q, "centers", None), getattr(q, "std", None)
            if centers is None or std is None:
                raise ValueError(f"{who}: pass grid= when q is a plain density function "
                                 f"(its support is unknown)")
            c = np.asarray(centers, np.float64).reshape(-1)
            lo, hi = min(lo, c.min() - 6 * std), max(hi, c.max() + 6 * std)
        pad = 4 * bandwidth if method == "kde" else 1e-9 * max(1.0, hi - lo)
        grid = np.linspace(lo - pad, hi + pad, n_grid if method == "kde" else bins + 1)
    grid = _grid(grid, who)
    if method == "kde":
        p_vals = kde_1d(p, grid, bandwidth)
        q_vals = _density_on(q, grid) if q_is_density else kde_1d(q_samples, grid, bandwidth)
        return jsd_from_densities(p_vals, q_vals, grid)
    # histogram: the grid points are the bin edges
    p_hist = np.histogram(p, bins=grid)[0].astype(np.float64)
    if q_is_density:
        fine = np.linspace(grid[0], grid[-1], 8 * (len(grid) - 1) + 1)
        cum = theory.cdf_on_grid(_density_on(q, fine), fine)
        q_hist = np.diff(np.interp(grid, fine, cum))
    else:
        q_hist = np.histogram(q_samples, bins=grid)[0].astype(np.float64)
    if p_hist.sum() == 0 or q_hist.sum() == 0:
        raise ValueError(f"{who}: a distribution has no mass inside the grid "
                         f"[{grid[0]:.4g}, {grid[-1]:.4g}]")
    return _jsd_discrete(p_hist, q_hist)


def wasserstein1_1d(a, b, grid=None) -> float:
    """W1 between the empirical distribution of samples ``a`` and ``b``.

    ``b`` samples: exact, ∫|F_a − F_b| summed over the gaps between the sorted
    pooled samples (sizes may differ).  ``b`` a density (callable or object with
    ``.density``): ∫|F_a − F_b| by quadrature on ``grid`` (default: a 20,001-point
    grid over both supports), F_b by cumulative trapezoid.
    """
    who = "wasserstein1_1d"
    a = np.sort(_samples_1d(a, who, "a"))
    if callable(b) or hasattr(b, "density"):
        if grid is None:
            centers, std = getattr(b, "centers", None), getattr(b, "std", None)
            if centers is None or std is None:
                raise ValueError(f"{who}: pass grid= when b is a plain density function")
            c = np.asarray(centers, np.float64).reshape(-1)
            grid = np.linspace(min(a[0], c.min() - 8 * std), max(a[-1], c.max() + 8 * std),
                               20001)
        grid = _grid(grid, who)
        cdf_b = theory.cdf_on_grid(_normalise(_density_on(b, grid), grid, who, "b"), grid)
        cdf_a = np.searchsorted(a, grid, side="right") / len(a)
        return theory.integrate(np.abs(cdf_a - cdf_b), grid)
    b = np.sort(_samples_1d(b, who, "b"))
    if len(a) == len(b):
        # equal sizes: the optimal coupling pairs order statistics
        return theory.wasserstein1_samples_1d(a, b)
    pooled = np.sort(np.concatenate([a, b]))
    left = pooled[:-1]
    cdf_a = np.searchsorted(a, left, side="right") / len(a)
    cdf_b = np.searchsorted(b, left, side="right") / len(b)
    return float((np.abs(cdf_a - cdf_b) * np.diff(pooled)).sum())


def wasserstein1_from_densities(p, q, grid) -> float:
    """W1 = ∫ |F_p − F_q| dx for densities given on (or as callables of) ``grid``."""
    who = "wasserstein1_from_densities"
    grid = _grid(grid, who)
    p = _normalise(_density_on(p, grid), grid, who, "p")
    q = _normalise(_density_on(q, grid), grid, who, "q")
    return theory.wasserstein1_quadrature(p, q, grid)
