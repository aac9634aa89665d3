"""Figures written as PNG files: sample grids, loss curves, 2-D and 1-D sample plots.

Headless: figures are built on matplotlib's Agg canvas directly (``Figure`` +
``FigureCanvasAgg``), never through ``pyplot``, so no display is needed and the
global backend of the user's session is left alone.  Inputs may be NumPy
arrays, device arrays or Tensors; they are copied to the host explicitly.
"""
from __future__ import annotations

import math
import os

import numpy as np

from . import backend as B
from .autograd import Tensor

__all__ = ["image_grid", "save_image_grid", "plot_losses", "plot_2d", "plot_1d"]


def _host(x) -> np.ndarray:
    data = x.data if isinstance(x, Tensor) else x
    return np.asarray(B.to_numpy(data) if B.is_array(data) else data)


def _figure(width=6.0, height=4.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, format="png")
    return path


# ---------------------------------------------------------------- image grids
def image_grid(images, nrow: int = 8, padding: int = 2, pad_value: float = -1.0) -> np.ndarray:
    """Tile (N, C, H, W) images into one (C, rows·(H+p)+p, nrow·(W+p)+p) array.

    Vectorised: pad every image, reshape to (rows, nrow, C, H+p, W+p), then
    transpose the row/column axes next to the pixel axes.
    """
    x = _host(images).astype(np.float32)
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[0] == 0:
        raise ValueError(f"save_image_grid: images must have shape (N, C, H, W), got {x.shape}")
    if int(nrow) != nrow or nrow <= 0:
        raise ValueError(f"save_image_grid: nrow must be a positive integer, got {nrow!r}")
    n, c, h, w = x.shape
    ncol = min(int(nrow), n)
    rows = math.ceil(n / ncol)
    full = np.full((rows * ncol, c, h + padding, w + padding), pad_value, dtype=np.float32)
    full[:n, :, padding:, padding:] = x
    grid = full.reshape(rows, ncol, c, h + padding, w + padding).transpose(2, 0, 3, 1, 4)
    grid = grid.reshape(c, rows * (h + padding), ncol * (w + padding))
    return np.pad(grid, ((0, 0), (0, padding), (0, padding)), constant_values=pad_value)


def save_image_grid(images, path, nrow: int = 8, padding: int = 2, scale: int = 1) -> str:
    """Write images (N, C, H, W) in [−1, 1] (C = 1 or 3) as one PNG grid, ``nrow`` per row.

    Pixels are written one-to-one (``scale`` repeats each pixel for a larger picture).
    """
    from matplotlib.image import imsave
    grid = image_grid(images, nrow, padding)
    c = grid.shape[0]
    if c not in (1, 3):
        raise ValueError(f"save_image_grid: images need 1 or 3 channels, got {c}")
    if not np.isfinite(grid).all():
        raise ValueError("save_image_grid: images contain NaN or inf")
    # [−1, 1] → 0..255, rounded; gray is written as equal RGB channels so the bytes are exact
    # (a colormap would requantise through its 256-entry lookup table)
    pixels = np.round(np.clip((grid + 1.0) * 127.5, 0.0, 255.0)).astype(np.uint8)
    if scale > 1:
        pixels = pixels.repeat(int(scale), axis=1).repeat(int(scale), axis=2)
    rgb = np.repeat(pixels, 3, axis=0) if c == 1 else pixels
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    imsave(path, rgb.transpose(1, 2, 0), format="png")
    return path


# ---------------------------------------------------------------- training curves
_SKIP = {"step", "epoch", "time", "elapsed", "samples_per_sec", "samples_per_second",
         "iteration", "lr"}


def _panel_of(key: str):
    k = key.lower()
    if "wasserstein" in k or k in ("w", "w_estimate", "w_est", "em", "em_distance"):
        return "wasserstein"
    if k.startswith(("d_real", "d_fake", "dx", "dgz", "d(x)", "d(g(z))")) \
            or k in ("d_x", "d_g_z", "d_gz", "real_score", "fake_score"):
        return "d_means"
    if "loss" in k or k.startswith(("l_d", "l_g")):
        return "losses"
    if "sigma" in k or "noise" in k:
        return "sigma"
    if "penalty" in k or k == "gp" or "grad_norm" in k:
        return "penalty"
    return None


_TITLES = {"losses": "losses", "wasserstein": "Wasserstein estimate (−L_D)",
           "d_means": "discriminator outputs (means)", "sigma": "instance noise σ",
           "penalty": "gradient penalty / norms"}


def plot_losses(records, path, x_key: str = "step") -> str:
    """Plot logged scalars against ``step``, one panel per kind present in ``records``.

    ``records`` is a list of dicts (the lines of ``metrics.jsonl``).  Keys are
    grouped by name: ``*loss*`` → losses; ``wasserstein*`` → the critic's
    estimate; ``d_real*`` / ``d_fake*`` → D(real)/D(fake) means; ``*sigma*`` →
    instance-noise level; ``*penalty*`` / ``grad_norm*`` → WGAN-GP terms.
    Non-numeric values and bookkeeping keys (time, samples per second) are ignored.
    """
    records = list(records)
    if not records:
        raise ValueError("plot_losses: no records to plot")
    series = {}
    for i, rec in enumerate(records):
        x = rec.get(x_key, i)
        for key, value in rec.items():
            if key == x_key or key.lower() in _SKIP or isinstance(value, bool) \
                    or not isinstance(value, (int, float, np.integer, np.floating)):
                continue
            panel = _panel_of(key)
            if panel is not None:
                series.setdefault(panel, {}).setdefault(key, ([], []))
                series[panel][key][0].append(x)
                series[panel][key][1].append(float(value))
    if not series:
        raise ValueError(f"plot_losses: no loss-like numeric keys in the records (keys: "
                         f"{', '.join(sorted(records[0]))})")
    order = [p for p in ("losses", "wasserstein", "d_means", "penalty", "sigma") if p in series]
    fig = _figure(7.0, 2.6 * len(order))
    axes = fig.subplots(len(order), 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, order):
        for key, (xs, ys) in series[panel].items():
            ax.plot(xs, ys, label=key, linewidth=1.0)
        values = [v for _, ys in series[panel].values() for v in ys if np.isfinite(v)]
        if panel == "d_means" and values and min(values) >= 0 and max(values) <= 1:
            ax.set_ylim(-0.05, 1.05)  # probabilities: show the whole [0, 1] range
        ax.set_title(_TITLES[panel], fontsize=9)
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(x_key)
    fig.tight_layout()
    return _save(fig, path)


# ---------------------------------------------------------------- 2-D and 1-D samples
def _bounds_2d(points, centers, margin=0.15):
    pts = points if centers is None else np.concatenate([points, centers])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - margin * span, hi + margin * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def plot_2d(samples, path, centers=None, critic_fn=None, bounds=None, resolution: int = 100,
            title: str | None = None, max_points: int = 5000, curve=None) -> str:
    """Scatter of generated 2-D points over the true mode centres (or the data's noiseless
    ``curve``, an (M, 2) polyline: the swiss roll), with an optional contour.

    ``critic_fn`` maps an (M, 2) float32 host array to M scores (D's logit or
    probability, or the WGAN critic value); it is evaluated once on a
    ``resolution``² grid over ``bounds`` = (xmin, xmax, ymin, ymax), default:
    the data plus a margin.
    """
    pts = _host(samples).astype(np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"plot_2d: samples must have shape (N, 2), got {pts.shape}")
    c = None if centers is None else np.asarray(_host(centers), dtype=np.float64).reshape(-1, 2)
    line = None if curve is None else np.asarray(_host(curve), dtype=np.float64).reshape(-1, 2)
    finite = pts[np.isfinite(pts).all(axis=1)]
    if bounds is None:
        truth = [a for a in (c, line) if a is not None]
        bounds = _bounds_2d(finite if len(finite) else np.zeros((1, 2)),
                            np.concatenate(truth) if truth else None)
    xmin, xmax, ymin, ymax = bounds
    fig = _figure(6.0, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    if critic_fn is not None:
        gx, gy = np.meshgrid(np.linspace(xmin, xmax, resolution),
                             np.linspace(ymin, ymax, resolution))
        grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
        vals = np.asarray(_host(critic_fn(grid)), dtype=np.float64).reshape(-1)
        if vals.shape[0] != grid.shape[0]:
            raise ValueError(f"plot_2d: critic_fn returned {vals.shape[0]} values for "
                             f"{grid.shape[0]} points")
        cs = ax.contourf(gx, gy, vals.reshape(gx.shape), levels=20, cmap="coolwarm", alpha=0.6)
        fig.colorbar(cs, ax=ax, shrink=0.8)
    shown = finite[:max_points]
    ax.scatter(shown[:, 0], shown[:, 1], s=3, c="tab:blue", alpha=0.5, label="generated")
    if c is not None:
        ax.scatter(c[:, 0], c[:, 1], s=40, c="red", marker="x", label="true modes")
    if line is not None:
        ax.plot(line[:, 0], line[:, 1], c="red", lw=0.8, label="true curve")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_1d(samples, path, density_fn=None, d_fn=None, bounds=None, bins: int = 60,
            title: str | None = None, resolution: int = 400) -> str:
    """Histogram of generated 1-D samples, the data density p_data(x) and D(x).

    ``density_fn`` and ``d_fn`` map an (M,) float32 host array of x values to M
    values; D(x) is drawn against a second axis (its own scale: a probability
    in [0, 1] or a critic value).
    """
    x = _host(samples).astype(np.float64).reshape(-1)
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise ValueError("plot_1d: no finite samples")
    if bounds is None:
        lo, hi = x.min(), x.max()
        owner = getattr(density_fn, "__self__", None)  # e.g. a toy dataset's .density
        if getattr(owner, "centers", None) is not None and getattr(owner, "std", None):
            # show p_data's modes even where no sample landed (a dropped mode)
            c = np.asarray(owner.centers, dtype=np.float64).reshape(-1)
            lo, hi = min(lo, c.min() - 3 * owner.std), max(hi, c.max() + 3 * owner.std)
        span = max(hi - lo, 1e-3)
        bounds = (lo - 0.25 * span, hi + 0.25 * span)
    lo, hi = bounds
    grid = np.linspace(lo, hi, resolution).astype(np.float32)
    fig = _figure(7.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(x, bins=bins, range=(lo, hi), density=True, alpha=0.5, color="tab:green",
            label="generated")
    if density_fn is not None:
        ax.plot(grid, np.asarray(_host(density_fn(grid)), np.float64).reshape(-1),
                color="black", linewidth=1.5, label="p_data")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    handles, labels = ax.get_legend_handles_labels()
    if d_fn is not None:
        ax2 = ax.twinx()
        line, = ax2.plot(grid, np.asarray(_host(d_fn(grid)), np.float64).reshape(-1),
                         color="tab:blue", linestyle="--", linewidth=1.5, label="D(x)")
        ax2.set_ylabel("D(x)")
        handles, labels = handles + [line], labels + ["D(x)"]
    top = ax2 if d_fn is not None else ax  # the legend on the axis drawn last stays visible
    top.legend(handles, labels, fontsize=8, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
