"""Mode coverage on Gaussian-mixture data (the VEEGAN / PacGAN protocol).

Srivastava et al. (VEEGAN, 2017, §5.1) and Lin et al. (PacGAN, 2018, §4)
draw 2,500 generator samples and assign each to its nearest mode centre.

* A sample is **high quality** when it lies within 3 σ of that nearest centre
  (for an isotropic 2-D Gaussian, 1 − e^{−9/2} ≈ 98.9 % of true samples do).
* A mode is **captured** when at least one high-quality sample is assigned to it
  (``modes``).  Because one stray sample is enough for that, we also report
  ``modes_strict``: a mode counts only when it receives at least
  ``strict_share`` (default 0.2, i.e. 20 %) of its uniform share N/K of
  the N samples — for 2,500 samples that is ≥ 20 samples on grid25
  (K = 25) and ≥ 62.5 on ring8 (K = 8).
* ``kl`` is KL(p̂ ‖ U) = Σ_k p̂_k log(K p̂_k) of the histogram p̂ of the
  high-quality samples over the K modes against the uniform distribution: 0
  when the modes are evenly covered, log K when everything lands on one mode.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["mode_metrics", "assign_to_modes", "kl_to_uniform"]


def _as_points(x, name, dim=None, who="mode_metrics"):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1 and dim in (None, 1):
        x = x[:, None]
    if x.ndim != 2 or (dim is not None and x.shape[1] != dim):
        want = f"(N, {dim})" if dim is not None else "(N, D)"
        raise ValueError(f"{who}: {name} must have shape {want}, got {x.shape}")
    return x


def _checked_samples(samples, dim, std, who):
    """``samples`` as float64 points (N, ``dim``), with one-line errors for a wrong shape,
    none at all, NaN or inf, and a non-positive ``std``."""
    samples = _as_points(samples, "samples", dim, who)
    if not std > 0:
        raise ValueError(f"{who}: std must be positive, got {std!r}")
    if len(samples) == 0:
        raise ValueError(f"{who}: no samples")
    if not np.isfinite(samples).all():
        raise ValueError(f"{who}: samples contain NaN or inf")
    return samples


def assign_to_modes(samples, centers):
    """Index of the nearest centre and the distance to it, for every sample."""
    samples, centers = np.asarray(samples, np.float64), np.asarray(centers, np.float64)
    # ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²: one (N, K) matrix product, no (N, K, D) temporary
    sq = ((samples ** 2).sum(1)[:, None] - 2.0 * samples @ centers.T
          + (centers ** 2).sum(1)[None, :])
    nearest = sq.argmin(axis=1)
    dist = np.sqrt(np.maximum(sq[np.arange(len(samples)), nearest], 0.0))
    return nearest, dist


def kl_to_uniform(counts) -> float:
    """KL(p̂ ‖ U) = Σ_k p̂_k log(K p̂_k) of the histogram ``counts`` over K bins (nats; NaN
    when the histogram is empty)."""
    counts = np.asarray(counts)
    total = counts.sum()
    if not total:
        return math.nan
    p = counts[counts > 0] / total
    return float((p * np.log(p * len(counts))).sum())


def _coverage(counts, n: int, strict_share: float, unit: str) -> dict:
    """The protocol's summary of ``counts`` (high-quality samples per mode or segment) out of
    ``n`` samples: ``unit`` ("modes", "segments") captured, ``<unit>_strict``,
    ``high_quality``, ``kl``, ``counts``, ``n_<unit>`` and ``n_samples``."""
    k = len(counts)
    return {
        unit: int((counts > 0).sum()),
        f"{unit}_strict": int((counts >= strict_share * n / k).sum()),
        "high_quality": float(counts.sum() / n),
        "kl": kl_to_uniform(counts),
        "counts": counts.tolist(),
        f"n_{unit}": k,
        "n_samples": n,
    }


def mode_metrics(samples, centers, std: float, n_std: float = 3.0,
                 strict_share: float = 0.2) -> dict:
    """Modes captured, strict modes, high-quality fraction and KL to uniform (see module doc).

    ``samples`` (N, D) host array (convert device arrays with ``tinygan.to_numpy``),
    ``centers`` (K, D), ``std`` the mixture's per-coordinate standard deviation.
    Returns a JSON-able dict: ``modes``, ``modes_strict``, ``high_quality`` (fraction in
    [0, 1]), ``kl`` (nats; NaN when no sample is high quality), ``counts`` (high-quality
    samples per mode), ``n_modes`` and ``n_samples``.
    """
    centers = _as_points(centers, "centers")
    samples = _checked_samples(samples, centers.shape[1], std, "mode_metrics")
    nearest, dist = assign_to_modes(samples, centers)
    good = dist <= n_std * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    return _coverage(counts, len(samples), strict_share, "modes")
