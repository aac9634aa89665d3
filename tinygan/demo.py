"""``tinygan demo``: the GAN family on built-in data, in a few minutes on 2 CPU cores.

Trains GAN, instance-noise GAN, WGAN and WGAN-GP on ``ring8`` (8 Gaussians on
a circle, the VEEGAN/PacGAN benchmark), and DCGAN briefly on digits when the
MNIST files are at hand (``tinygan.data.find_mnist_dir``: ``$TINYGAN_DATA``,
``../shared/data/mnist``, the download cache; nothing is downloaded).  Each model gets a run folder
(config, metrics, checkpoint, samples, figures); the demo adds one comparison
figure and ``summary.md`` / ``summary.json`` with the mode metrics.

The budgets are the demo's, chosen to fit the time, and are smaller than the
papers' (narrower MLPs of 3 × 128, a few thousand steps); the GAN uses Adam
instead of the paper's SGD because SGD does not get anywhere in this budget.
"""
from __future__ import annotations

import json
import os
import time

__all__ = ["run_demo", "find_mnist", "DEMO_RUNS"]

_TOY = dict(data="ring8", hidden=(128, 128, 128), z_dim=2, batch_size=256, sample_every=0,
            log_every=50, checkpoint_every=1000)

# name → (model, options, full-demo steps)
DEMO_RUNS = {
    "gan": ("gan", dict(_TOY, optimizer="adam", lr=1e-3, betas=(0.5, 0.999)), 3000),
    "gan-instance-noise": ("gan", dict(_TOY, optimizer="adam", lr=1e-3, betas=(0.5, 0.999),
                                       instance_noise=0.5), 3000),
    "wgan": ("wgan", dict(_TOY, batch_size=64, lr=5e-4), 1000),
    "wgan-gp": ("wgan-gp", dict(_TOY), 1000),
}
# ngf = ndf = 16 is too narrow: G's output scale collapses (PyTorch fails identically at
# most seeds); ngf 32 with ndf 16 learns digits in ~1,000 steps and keeps D balanced.
_DCGAN = dict(data="mnist", batch_size=64, ngf=32, ndf=16, sample_every=250, log_every=20,
              checkpoint_every=1000, n_samples=1000)
_DCGAN_STEPS = 1500


def find_mnist():
    """A folder holding the MNIST training IDX files, or None (the demo never downloads)."""
    from .data.mnist import find_mnist_dir
    return find_mnist_dir()


def _comparison_figure(results, path):
    """One row of 2-D scatters (one per model) over the true mode centres."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .data.toy import get_dataset
    centers = get_dataset("ring8").centers
    fig = Figure(figsize=(3.2 * len(results), 3.4), dpi=100)
    FigureCanvasAgg(fig)
    for i, (name, res) in enumerate(results.items()):
        ax = fig.add_subplot(1, len(results), i + 1)
        pts = np.load(os.path.join(res["out"], "samples.npy"))
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4, color="tab:blue")
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", color="tab:red", s=40)
        m = res["metrics"]
        ax.set_title(f"{name}\n{m.get('modes', '?')}/8 modes, "
                     f"{100 * m.get('high_quality', 0):.0f}% HQ", fontsize=9)
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def run_demo(out_dir: str = "tinygan-demo", quick: bool = False, log=print) -> dict:
    """Train the family, write figures and a summary under ``out_dir``; return the summary.

    ``quick=True`` runs a few steps of each (a smoke test, seconds not minutes).
    """
    from .gan.config import ConfigError, make_config
    from .gan.train import train
    if not out_dir:
        raise ConfigError("--out must name a folder, got an empty string")
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise ConfigError(f"--out {out_dir} is a file, not a folder")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out_dir}: cannot create the folder ({exc.strerror})") \
            from None
    results, started = {}, time.perf_counter()
    runs = dict(DEMO_RUNS)
    for name, (model, options, steps) in runs.items():
        out = os.path.join(out_dir, name)
        steps = 5 if quick else steps
        opts = dict(options, n_samples=500 if quick else 2500, progress=not quick and None)
        if model == "wgan" and quick:
            opts["critic_warmup"] = False
        if "instance_noise" in opts:
            opts["noise_anneal_steps"] = max(1, int(0.75 * steps))
        cfg = make_config(model, steps=steps, out=out, **opts)
        _clear(out)
        t0 = time.perf_counter()
        log(f"[demo] training {name} on ring8 for {steps} steps ...")
        summary = train(cfg)
        summary["seconds"] = round(time.perf_counter() - t0, 1)
        results[name] = summary
        m = summary["metrics"]
        log(f"[demo]   {name}: {m['modes']}/8 modes (strict {m['modes_strict']}), "
            f"{100 * m['high_quality']:.1f}% high quality, {summary['seconds']} s")
    mnist = find_mnist()
    if mnist is not None:
        out = os.path.join(out_dir, "dcgan-mnist")
        steps = 2 if quick else _DCGAN_STEPS
        opts = dict(_DCGAN, data_dir=mnist, progress=not quick and None)
        if quick:
            opts.update(ngf=4, ndf=4, batch_size=16, n_samples=16)
        cfg = make_config("dcgan", steps=steps, out=out, **opts)
        _clear(out)
        log(f"[demo] training dcgan on MNIST digits from {mnist} for {steps} steps ...")
        t0 = time.perf_counter()
        summary = train(cfg)
        summary["seconds"] = round(time.perf_counter() - t0, 1)
        if not quick:
            summary["metrics"] = _digit_metrics(out, mnist, log)
        results["dcgan-mnist"] = summary
    else:
        log("[demo] no MNIST files found (set TINYGAN_DATA); skipping DCGAN on digits")
    toy = {k: v for k, v in results.items() if k in runs}
    figure = _comparison_figure(toy, os.path.join(out_dir, "ring8_comparison.png"))
    total = round(time.perf_counter() - started, 1)
    summary = {"seconds": total, "comparison_figure": figure, "runs": results}
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=str)
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(_markdown(results, total))
    log(f"[demo] done in {total} s. Summary: {os.path.join(out_dir, 'summary.md')}; "
        f"figures: {figure} and each run folder under {out_dir}/")
    return summary


def _markdown(results, total):
    lines = ["# tinygan demo", "",
             "ring8: 8 Gaussians (std 0.02) on a circle of radius 2; 2,500 samples; high "
             "quality = within 3 std of a centre; strict = a mode with at least 20% of its "
             "uniform share.", "",
             "| run | steps | modes | modes (strict) | high quality | KL to uniform | time |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        m = r.get("metrics") or {}
        if "frechet" in m:
            lines.append(f"| {name} | {r['steps']} | classifier Fréchet distance "
                         f"{m['frechet']:.1f} (real vs real {m['frechet_floor']:.1f}); "
                         f"{m['classes_covered']}/10 classes | | | | {r['seconds']} s |")
        elif "modes" in m:
            lines.append(f"| {name} | {r['steps']} | {m['modes']}/8 | {m['modes_strict']} | "
                         f"{100 * m['high_quality']:.1f}% | {m['kl']:.3f} | {r['seconds']} s |")
        else:
            lines.append(f"| {name} | {r['steps']} | – | – | – | – | {r['seconds']} s |")
    lines += ["", f"Total: {total} s.", ""]
    return "\n".join(lines)


def _digit_metrics(run_dir, mnist, log):
    """Classifier Fréchet distance of the generated digits to the test digits, its
    real-vs-real floor (train vs test digits) and class coverage (tinygan.metrics)."""
    import numpy as np
    from .data import load_mnist
    from .metrics.frechet import class_coverage, classifier_frechet_distance, get_classifier
    log("[demo]   scoring the digits with tinygan's own digit classifier (cached after first use)")
    classifier = get_classifier(mnist)
    test, _ = load_mnist(mnist, split="test")
    train_images, _ = load_mnist(mnist, split="train")
    samples = np.load(os.path.join(run_dir, "samples.npy"))
    coverage = class_coverage(samples, classifier)
    metrics = {"frechet": classifier_frechet_distance(samples, test, classifier),
               "frechet_floor": classifier_frechet_distance(train_images[:len(test)], test,
                                                            classifier),
               "classes_covered": int(coverage["classes_covered"]),
               "class_kl": float(coverage["kl"])}
    log(f"[demo]   dcgan-mnist: Fréchet distance {metrics['frechet']:.1f} "
        f"(real vs real {metrics['frechet_floor']:.1f}), "
        f"{metrics['classes_covered']}/10 classes")
    return metrics


def _clear(out):
    """A demo re-run replaces its previous runs (the trainer refuses to overwrite a run)."""
    for name in ("checkpoint.npz", "metrics.jsonl"):
        path = os.path.join(out, name)
        if os.path.exists(path):
            os.remove(path)
