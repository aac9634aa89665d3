"""``tinygan demo``: the GAN family on built-in data, in under 5 minutes on 2 CPU cores.

Trains GAN, GAN with instance noise, WGAN (weight clipping) and WGAN-GP on ``ring8``
(the VEEGAN/PacGAN ring of 8 Gaussians), and DCGAN on digits when the MNIST files are
at hand (``tinygan.data.find_mnist_dir``: ``$TINYGAN_DATA``, ``../shared/data/mnist``,
the download cache; nothing is downloaded).  Every run uses its model's *default
recipe* (:data:`tinygan.gan.config.TOY_RECIPES` and ``IMAGE_RECIPES``: architecture,
optimiser, learning-rate and noise schedules) with a shorter budget, ``--steps N``: the
toy runs are whole runs whose schedules decay to 0 over the demo's N steps (measured on
ring8, 2 Dec 2026: GAN 8 strict modes / 92 % high quality in 1,500 steps, GAN + instance
noise 8 / 85 %, WGAN-GP 8 / 58 % in 500 steps — where stopping the 2,000-step default
run after 400 steps gave 0 strict / 4 %); DCGAN is the first 600 steps of its default
run.  Each run gets a run folder (config, metrics, checkpoint, samples, figures); the
demo adds one comparison figure per data set (samples over the true modes, the metrics
in each panel's title) and ``summary.md`` / ``summary.json``, which state each run's
budget beside the default's.  grid25, whose runs need their whole default budgets, is
measured in benchmarks/QUALITY.md instead.
"""
from __future__ import annotations

import json
import os
import time

__all__ = ["run_demo", "find_mnist", "DEMO_RUNS", "DEMO_STEPS"]

# name → (model, options beyond the default recipe)
DEMO_RUNS = {
    "gan": ("gan", {}),
    "gan-instance-noise": ("gan", {"instance_noise": None}),  # None: the bare flag's σ0
    "wgan": ("wgan", {}),
    "wgan-gp": ("wgan-gp", {}),
}
# (name, data) → the demo's generator steps (the defaults' are in TOY_RECIPES), each
# 25–65 CPU-seconds at 1 thread on a 2-core AMD EPYC.  Clipped WGAN concentrates on the
# modes only late in its 3,000-step default run (benchmarks/QUALITY.md): at 600 steps its
# samples lie on the ring, between the modes.
DEMO_STEPS = {
    ("gan", "ring8"): 1500, ("gan-instance-noise", "ring8"): 1500, ("wgan", "ring8"): 600,
    ("wgan-gp", "ring8"): 500,
}
TOY_SETS = ("ring8",)
# DCGAN on digits: the default recipe (tinygan.gan.config.IMAGE_RECIPES: ngf = ndf = 64,
# m = 32), stopped after the first _DCGAN_STEPS of its 2,500 steps.
_DCGAN = dict(data="mnist", sample_every=250, log_every=20, checkpoint_every=1000)
_DCGAN_STEPS = 600


def find_mnist():
    """A folder holding the MNIST training IDX files, or None (the demo never downloads)."""
    from .data.mnist import find_mnist_dir
    return find_mnist_dir()


def _title(name, metrics, n_modes):
    if "modes" not in metrics:
        return f"{name}\n(no metrics)"
    return (f"{name}\n{metrics['modes']}/{n_modes} modes, {metrics['modes_strict']} strict, "
            f"{100 * metrics['high_quality']:.0f}% HQ")


def _comparison_figure(results, data, path):
    """One row of 2-D scatters (one per model) over the true mode centres."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .data.toy import get_dataset
    centers = get_dataset(data).centers
    lim = 1.5 * np.abs(centers).max()
    fig = Figure(figsize=(3.2 * len(results), 3.6), dpi=100)
    FigureCanvasAgg(fig)
    for i, (name, res) in enumerate(results.items()):
        ax = fig.add_subplot(1, len(results), i + 1)
        pts = np.load(os.path.join(res["out"], "samples.npy"))
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4, color="tab:blue")
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", color="tab:red", s=30)
        ax.set_title(_title(name, res["metrics"], len(centers)), fontsize=8)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
    fig.suptitle(f"{data}: 2,500 samples of each default recipe (red: the modes)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _digit_figure(res, floor, path):
    """The generated digits (64), with the classifier Fréchet distance in the title."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    imgs = np.load(os.path.join(res["out"], "samples.npy"))[:64, 0]
    grid = np.ones((8 * 30, 8 * 30))
    for k, im in enumerate(imgs):
        r, c = divmod(k, 8)
        grid[r * 30 + 1:r * 30 + 29, c * 30 + 1:c * 30 + 29] = (im + 1) / 2
    fig = Figure(figsize=(4, 4.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    m = res["metrics"]
    ax.set_title(f"dcgan on digits: Fréchet {_fmt(m.get('frechet'))} (real {_fmt(floor)}), "
                 f"{m.get('classes_covered', '?')}/10 classes", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _fmt(v, spec=".1f"):
    return "–" if v is None else format(v, spec)


def run_demo(out_dir: str = "tinygan-demo", quick: bool = False, log=print) -> dict:
    """Train the family, write figures and a summary under ``out_dir``; return the summary.

    ``quick=True`` runs a few steps of each (a smoke test, seconds not minutes).
    """
    from .gan.config import INSTANCE_NOISE_TOY, make_config
    from .gan.run import json_safe, prepare_out_dir
    from .gan.train import train
    prepare_out_dir(out_dir)
    results, figures = {}, {}
    started, cpu0 = time.perf_counter(), time.process_time()
    for data in TOY_SETS:
        results[data] = {}
        for name, (model, extra) in DEMO_RUNS.items():
            opts = {k: (INSTANCE_NOISE_TOY if v is None else v) for k, v in extra.items()}
            default_steps = make_config(model, data=data, **opts).steps
            steps = 5 if quick else DEMO_STEPS[(name, data)]
            out = os.path.join(out_dir, f"{data}-{name}")
            cfg = make_config(model, data=data, steps=steps, out=out, sample_every=0,
                              checkpoint_every=steps, n_samples=500 if quick else 2500,
                              progress=not quick and None, **opts)
            if model == "wgan" and quick:
                cfg.critic_warmup = False
            _clear(out)
            log(f"[demo] training {name} on {data} for {steps} steps (default {default_steps})")
            summary = train(cfg)
            summary["default_steps"] = default_steps
            results[data][name] = summary
            m = summary["metrics"]
            log(f"[demo]   {name}: {m['modes']}/{m['n_modes']} modes (strict "
                f"{m['modes_strict']}), {100 * m['high_quality']:.1f}% high quality, "
                f"{summary['cpu_s']:.1f} CPU-s")
        figures[data] = _comparison_figure(results[data], data,
                                           os.path.join(out_dir, f"{data}_comparison.png"))
    mnist = find_mnist()
    floor = None
    if mnist is not None:
        from .gan.outputs import real_digit_floor
        out = os.path.join(out_dir, "mnist-dcgan")
        steps = 2 if quick else _DCGAN_STEPS
        opts = dict(_DCGAN, data_dir=mnist, progress=not quick and None)
        if quick:
            opts.update(ngf=4, ndf=4, batch_size=16, n_samples=16)
        default_steps = make_config("dcgan", data="mnist", data_dir=mnist).steps
        cfg = make_config("dcgan", steps=steps, out=out, **opts)  # no schedule to compress
        _clear(out)
        log(f"[demo] training dcgan on MNIST digits from {mnist} for {steps} steps "
            f"(default {default_steps})")
        summary = train(cfg)
        summary["default_steps"] = default_steps
        floor = real_digit_floor("mnist", mnist).get("frechet")
        results["mnist"] = {"dcgan": summary}
        figures["mnist"] = _digit_figure(summary, floor, os.path.join(out_dir,
                                                                      "mnist_comparison.png"))
        m = summary["metrics"]
        log(f"[demo]   dcgan: classifier Fréchet distance {_fmt(m.get('frechet'))} (real vs "
            f"real {_fmt(floor)}), {m.get('classes_covered', '?')}/10 classes")
    else:
        log("[demo] no MNIST files found (set TINYGAN_DATA); skipping DCGAN on digits")
    total = {"wall_s": round(time.perf_counter() - started, 1),
             "cpu_s": round(time.process_time() - cpu0, 1)}
    summary = json_safe({**total, "figures": figures, "digit_floor": floor, "runs": results})
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=str, allow_nan=False)
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(_markdown(results, total, floor))
    log(f"[demo] done in {total['wall_s']} s ({total['cpu_s']} CPU-s). Summary: "
        f"{os.path.join(out_dir, 'summary.md')}; figures: {', '.join(figures.values())}")
    return summary


def _markdown(results, total, floor):
    lines = ["# tinygan demo", "",
             "Each model trains on its default recipe (`tinygan train MODEL --data DATA` with "
             "no options) for the demo's number of steps, stated beside the default's "
             "(`--steps N`: on the toys the learning rate and instance noise decay to 0 over "
             "those N steps; DCGAN's default has no schedule, so its run is the first part of "
             "the default run). Shorter runs are less concentrated than the defaults' "
             "(benchmarks/QUALITY.md); clipped WGAN needs most of its default budget to "
             "concentrate on the modes.",
             "",
             "2-D mixtures: 2,500 samples; high quality (HQ) = within 3 std of a mode; strict "
             "= a mode holding at least 20 % of its uniform share (VEEGAN/PacGAN protocol).",
             "",
             "| data | run | steps (default) | modes | strict | HQ | KL to uniform | CPU-s |",
             "|---|---|---|---|---|---|---|---|"]
    for data in TOY_SETS:
        for name, r in results.get(data, {}).items():
            m = r.get("metrics") or {}
            lines.append(f"| {data} | {name} | {r['steps']} ({r['default_steps']}) | "
                         f"{m.get('modes')}/{m.get('n_modes')} | {m.get('modes_strict')} | "
                         f"{100 * m.get('high_quality', 0):.1f}% | {_fmt(m.get('kl'), '.3f')} "
                         f"| {r['cpu_s']:.1f} |")
    if "mnist" in results:
        r = results["mnist"]["dcgan"]
        m = r.get("metrics") or {}
        lines += ["", "Digits: classifier Fréchet distance of 2,000 samples to the 2,000 "
                  "held-out digits (tinygan.metrics; real vs real: "
                  f"{_fmt(floor)}); the default recipe, stopped early.", "",
                  "| run | steps (default) | Fréchet | classes | CPU-s |", "|---|---|---|---|---|",
                  f"| dcgan | {r['steps']} ({r['default_steps']}) | {_fmt(m.get('frechet'))} | "
                  f"{m.get('classes_covered')}/10 | {r['cpu_s']:.1f} |"]
    lines += ["", f"Total: {total['wall_s']} s wall, {total['cpu_s']} s CPU.", ""]
    return "\n".join(lines)


def _clear(out):
    """A demo re-run replaces its previous runs (the trainer refuses to overwrite a run)."""
    for name in ("checkpoint.npz", "metrics.jsonl"):
        path = os.path.join(out, name)
        if os.path.exists(path):
            os.remove(path)
