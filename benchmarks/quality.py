"""Sample quality of the GAN family in a stated budget of steps on 2 CPU cores (see QUALITY.md).

2-D mixtures (``ring8``, ``grid25``), over several seeds:
  modes captured (``modes``: some high-quality sample is nearest to the mode;
  ``modes_strict``: the mode holds ≥ 20 % of its uniform share), the fraction of
  high-quality samples (within 3 σ of the nearest centre) and KL of the
  high-quality samples' mode histogram to uniform — the VEEGAN / PacGAN protocol
  on 2,500 generator samples (``tinygan.metrics.mode_metrics``).

MNIST (the shared 10,000-digit subset, or any IDX folder): the Fréchet distance
on the features of tinygan's own digit classifier between generated and held-out
test digits, and class coverage (classes the classifier predicts at least once),
with the real-vs-real floor measured on the same classifier.

Every (setting, data, seed) run is one call of the library's ``train(cfg)`` in a
pool of 2 worker processes, each held to 1 BLAS thread (threadpoolctl).  The
script writes ``<out>/results.json`` (settings, machine, every run, the means)
and ``<out>/quality.md``, and prints the Markdown tables.  Figures, not tests.

Run from the repository root::

    python benchmarks/quality.py                                 # 2-D part, 5 seeds
    python benchmarks/quality.py --data mnist --seeds 1          # MNIST part
    python benchmarks/quality.py --quick                         # smoke test, seconds
    python benchmarks/quality.py --models gan wgan-gp --data ring8 --steps 500

The per-setting step budgets and optimiser settings are in SETTINGS_2D and
SETTINGS_MNIST below; ``--steps`` overrides the budget of every selected setting.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np  # before threadpoolctl: it can only limit a BLAS that is already loaded

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

TOY = ("ring8", "grid25")
IMAGES = ("mnist",)

# The 2-D toys: every model on its default recipe (tinygan.gan.config.TOY_RECIPES, what
# `tinygan train MODEL --data DATA` runs with no options), at the default's step budget
# (None), so this table is the defaults' table.  The "-paper" settings are the papers'
# settings (`--recipe paper`) at the same number of steps as the default's.
SETTINGS_2D = {
    # name: (model, options, generator steps (None: the default's), the settings in words)
    "gan": ("gan", {}, None, "default recipe (LeakyReLU(0.2) in D)"),
    "gan-instance-noise": ("gan", dict(instance_noise=True), None,
                           "default recipe + instance noise, the data's σ0 (0.3 on ring8, 0.5 "
                           "on grid25) annealed linearly to 0 (a bare `--instance-noise`); D "
                           "keeps ReLU"),
    "wgan": ("wgan", {}, None, "default recipe (weight clipping c = 0.01)"),
    "wgan-gp": ("wgan-gp", {}, None, "default recipe (two-sided penalty, λ = 0.1)"),
    "gan-paper": ("gan", dict(recipe="paper"), None, "--recipe paper (SGD 0.1, momentum 0.5)"),
    "wgan-paper": ("wgan", dict(recipe="paper"), None, "--recipe paper (RMSProp 5e-5)"),
}
DEFAULT_2D = ("gan", "gan-instance-noise", "wgan", "wgan-gp")  # run unless --models says

# MNIST: every model on its default recipe (tinygan.gan.config: IMAGE_RECIPES over the
# papers' settings), at the default's step budget (None), plus the paper recipe of DCGAN
# for the same 10 epochs.  The DCGAN pair of tinygan.gan.models for 28×28 (z(100) → 7×7 →
# 14×14 → 28×28); WGAN-GP's critic has no batch norm.
SETTINGS_MNIST = {
    "dcgan": ("dcgan", {}, None, "default recipe: ngf = ndf = 64, Adam 1.6e-3 for G and 8e-4 "
                                 "for D, β (0.5, 0.99), k = 1, m = 32, 2,500 steps (10 epochs "
                                 "of 8,000 digits), sampled from the moving average of G "
                                 "(β 0.999) with its own batch-norm statistics"),
    "dcgan-paper": ("dcgan", dict(recipe="paper"), 625,  # 10 epochs × 8,000 digits / m = 128
                    "--recipe paper (m = 128) for the same 10 epochs"),
    "wgan": ("wgan", {}, None, "default recipe: the paper's (RMSProp, c = 0.01, n_critic = 5 "
                               "with the 100-step warm-up, m = 64) at ngf = ndf = 32 and "
                               "RMSProp 4e-4 instead of 5e-5, 2,500 steps"),
    "wgan-gp": ("wgan-gp", {}, None, "default recipe: the paper's (Adam 1e-4, β (0.5, 0.9), "
                                     "λ = 10, n_critic = 5, m = 64) at ngf = ndf = 32, "
                                     "2,500 steps"),
}
DEFAULT_MNIST = ("dcgan", "wgan", "wgan-gp")  # run unless --models says

# Published anchors (2,500 samples; VEEGAN: Srivastava et al. 2017, Table 1; PacGAN: Lin et
# al. 2018, Table 3).
ANCHORS = {
    "ring8": [("VEEGAN", 8.0, 52.9), ("PacGAN4", 7.8, 95.9)],
    "grid25": [("VEEGAN", 24.6, 40.0), ("PacGAN4", 24.8, 93.6)],
}

N_EVAL_2D = 2500     # VEEGAN / PacGAN protocol
N_EVAL_MNIST = 2000  # generated digits against the 2,000 test digits of the shared subset

_LIMITER = []  # keeps the threadpoolctl limit alive in each worker


# ---------------------------------------------------------------- workers
def _init_worker(threads: int) -> None:
    """Hold this worker's BLAS (and OpenMP) pools to ``threads`` threads.

    NumPy is imported at the top of this module, so its OpenBLAS is loaded and
    threadpoolctl can find it (limiting before the import has no effect).
    """
    from threadpoolctl import threadpool_limits
    _LIMITER.append(threadpool_limits(limits=threads))


def _blas_threads() -> list:
    from threadpoolctl import threadpool_info
    return sorted({p["num_threads"] for p in threadpool_info()})


def run_one(task: dict) -> dict:
    """Train one (setting, data, seed) with the library API and measure it."""
    from tinygan.gan.config import make_config
    from tinygan.gan.train import TrainingDiverged, train

    opts = dict(task["options"])
    steps = task["steps"]
    frac = opts.pop("anneal_fraction", None)
    if frac is not None:
        opts["noise_anneal_steps"] = max(1, int(frac * steps))
    out = task["run_dir"]
    shutil.rmtree(out, ignore_errors=True)  # the trainer refuses to overwrite a run
    image = task["data"] in IMAGES
    if steps is None:  # the default recipe's budget
        steps = make_config(task["model"], data=task["data"], **opts).steps
    cfg = make_config(task["model"], data=task["data"], data_dir=task.get("data_dir"),
                      steps=steps, seed=task["seed"], out=out, progress=False, figures=False,
                      threads=1,  # else train() takes every idle core, in every worker
                      sample_every=0 if image else max(1, steps // 10), log_every=100,
                      checkpoint_every=steps,
                      n_samples=N_EVAL_MNIST if image else N_EVAL_2D, **opts)
    record = {k: task[k] for k in ("name", "model", "data", "seed")}
    record["steps"] = steps
    record["blas_threads"] = _blas_threads()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    try:
        summary = train(cfg)
        record["diverged"] = None
    except TrainingDiverged as exc:
        summary = None
        record["diverged"] = str(exc)
    record["wall_s"] = round(time.perf_counter() - wall0, 2)
    record["cpu_s"] = round(time.process_time() - cpu0, 2)
    record["run_dir"] = out
    record["metrics"] = summary["metrics"] if summary is not None else None
    if summary is not None:  # the run's own CPU time, without building and scoring
        record["train_cpu_s"] = round(summary["cpu_s"], 2)
    if not image:  # the learning curve: (step, CPU s, strict modes, high quality)
        from tinygan.gan.run import read_metrics
        rows, _ = read_metrics(os.path.join(out, "metrics.jsonl"))
        record["curve"] = [(r["step"], r["cpu_s"], r["modes_strict"], r["high_quality"])
                           for r in rows if r.get("event") == "samples"]
        if summary is not None:
            m = summary["metrics"]
            record["curve"].append((steps, summary["cpu_s"], m["modes_strict"],
                                    m["high_quality"]))
    return record


# ---------------------------------------------------------------- image metrics
def real_floor(data_dir: str, n: int = N_EVAL_MNIST, seed: int = 0) -> dict:
    """Real-vs-real floor: n random training digits against the test digits, same classifier."""
    from tinygan.data.mnist import load_mnist
    from tinygan.gan.outputs import real_digit_floor
    from tinygan.metrics.frechet import accuracy, get_classifier
    test, test_y = load_mnist(data_dir, "test")
    floor = real_digit_floor("mnist", data_dir, n, seed)
    return dict(floor, classifier_test_accuracy=accuracy(get_classifier(data_dir), test, test_y))


# ---------------------------------------------------------------- aggregation and tables
def _mean_std(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return None, None, 0
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0, len(arr)


def _settings_of(data: str) -> dict:
    return SETTINGS_2D if data in TOY else SETTINGS_MNIST


def aggregate(records: list) -> list:
    """One row per (data, setting): mean ± std (ddof = 1) over the seeds that finished."""
    rows = []
    keys = sorted({(r["data"], r["name"]) for r in records},
                  key=lambda k: (k[0] not in TOY, k[0], list(_settings_of(k[0])).index(k[1])))
    for data, name in keys:
        rs = [r for r in records if r["data"] == data and r["name"] == name]
        ok = [r for r in rs if r["metrics"] and r["metrics"].get("finite", True)]
        row = {"data": data, "name": name, "model": rs[0]["model"], "steps": rs[0]["steps"],
               "seeds": len(rs), "finished": len(ok), "settings": _settings_of(data)[name][3],
               "wall_s": _mean_std([r["wall_s"] for r in rs])[:2],
               "cpu_s": _mean_std([r["cpu_s"] for r in rs])[:2]}
        keys_m = (("modes", "modes_strict", "high_quality", "kl") if data in TOY
                  else ("frechet", "classes_covered", "class_kl"))
        for k in keys_m:
            row[k] = _mean_std([r["metrics"][k] for r in ok])[:2]
        if data in TOY:
            row["per_seed_modes"] = [r["metrics"]["modes"] if r["metrics"] else None for r in rs]
        rows.append(row)
    return rows


def _pm(ms, fmt="{:.1f}", scale=1.0):
    m, s = ms
    if m is None:
        return "–"
    return f"{fmt.format(m * scale)} ± {fmt.format(s * scale)}"


def markdown_2d(rows: list, data: str) -> str:
    n_modes = 8 if data == "ring8" else 25
    lines = [f"**{data}** ({n_modes} modes; 2,500 samples per run)", "",
             "| model | steps | modes | modes (strict) | high quality % | KL to uniform "
             "| wall s / run | CPU s / run |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["data"] != data:
            continue
        note = "" if r["finished"] == r["seeds"] else \
            f" ({r['seeds'] - r['finished']} of {r['seeds']} diverged)"
        lines.append(f"| {r['name']}{note} | {r['steps']} | {_pm(r['modes'])} | "
                     f"{_pm(r['modes_strict'])} | {_pm(r['high_quality'], scale=100)} | "
                     f"{_pm(r['kl'], '{:.3f}')} | {_pm(r['wall_s'], '{:.0f}')} | "
                     f"{_pm(r['cpu_s'], '{:.0f}')} |")
    for who, modes, hq in ANCHORS.get(data, []):
        lines.append(f"| *{who} (published)* | – | {modes} | – | {hq} | – | – | – |")
    return "\n".join(lines)


def markdown_mnist(rows: list, floor: dict | None) -> str:
    lines = ["**MNIST** (2,000 generated digits vs the 2,000 test digits)", "",
             "| model | steps | seeds | classifier Fréchet distance ↓ | classes covered (of 10) "
             "| class KL to uniform | wall s / run | CPU s / run |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["data"] not in IMAGES:
            continue
        lines.append(f"| {r['name']} | {r['steps']} | {r['finished']}/{r['seeds']} | "
                     f"{_pm(r['frechet'], '{:.1f}')} | {_pm(r['classes_covered'])} | "
                     f"{_pm(r['class_kl'], '{:.3f}')} | {_pm(r['wall_s'], '{:.0f}')} | "
                     f"{_pm(r['cpu_s'], '{:.0f}')} |")
    if floor:
        lines.append(f"| *real vs real (2,000 train digits)* | – | – | {floor['frechet']:.2f} | "
                     f"{floor['classes_covered']} | {floor['class_kl']:.3f} | – | – |")
    return "\n".join(lines)


def markdown_settings(settings: dict, names) -> str:
    return "\n".join(f"- `{n}` ({settings[n][0]}): {settings[n][3]}" for n in names)


# ---------------------------------------------------------------- figures
def figure_2d(records: list, datasets, names, path: str, seed: int) -> str | None:
    """One scatter per (data, setting) of the given seed's 2,500 samples over the mode centres."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from tinygan.data.toy import get_dataset
    datasets = [d for d in datasets if d in TOY]
    if not datasets:
        return None
    fig = Figure(figsize=(2.3 * len(names), 2.4 * len(datasets)), dpi=80)
    FigureCanvasAgg(fig)
    for i, data in enumerate(datasets):
        centers = get_dataset(data).centers
        lim = 2.6 if data == "ring8" else 5.0
        for j, name in enumerate(names):
            ax = fig.add_subplot(len(datasets), len(names), i * len(names) + j + 1)
            rec = next((r for r in records if r["data"] == data and r["name"] == name
                        and r["seed"] == seed), None)
            ax.scatter(centers[:, 0], centers[:, 1], marker="x", color="tab:red", s=20)
            if rec is not None and rec["metrics"]:
                pts = np.load(os.path.join(rec["run_dir"], "samples.npy"))
                ax.scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.3, color="tab:blue",
                           rasterized=True)
                m = rec["metrics"]
                ax.set_title(f"{name}\n{m['modes']} modes, {100 * m['high_quality']:.0f}% HQ",
                             fontsize=8)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, format="png")
    return path


def figure_curves(records: list, datasets, names, path: str) -> str | None:
    """Learning curves: high-quality % against generator step and against CPU seconds, one
    line per (setting, seed), one row per data set."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    datasets = [d for d in datasets if d in TOY]
    if not datasets:
        return None
    fig = Figure(figsize=(9, 3.2 * len(datasets)), dpi=80)
    FigureCanvasAgg(fig)
    colors = dict(zip(names, ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                              "tab:brown"]))
    for i, data in enumerate(datasets):
        for j, (col, label) in enumerate(((0, "generator step"), (1, "CPU seconds"))):
            ax = fig.add_subplot(len(datasets), 2, 2 * i + j + 1)
            for name in names:
                for k, r in enumerate(x for x in records if x["data"] == data
                                      and x["name"] == name and x.get("curve")):
                    c = np.asarray(r["curve"], dtype=float)
                    ax.plot(c[:, col], 100 * c[:, 3], color=colors.get(name), lw=1,
                            alpha=0.8, label=name if k == 0 else None)
            ax.set_xlabel(label, fontsize=8)
            ax.set_ylabel(f"{data}: high quality %", fontsize=8)
            ax.set_ylim(0, 100)
            ax.tick_params(labelsize=7)
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, format="png")
    return path


def grids_mnist(records: list, names, path: str, seed: int, scale: int = 2) -> str | None:
    """8×8 sample grids of each image model side by side (seed ``seed``), one small PNG
    (each pixel repeated ``scale`` times)."""
    from tinygan.plots import image_grid
    panels = []
    for name in names:
        rec = next((r for r in records if r["data"] in IMAGES and r["name"] == name
                    and r["seed"] == seed and r["metrics"]), None)
        if rec is None:
            continue
        samples = np.load(os.path.join(rec["run_dir"], "samples.npy"))[:64]
        panels.append(image_grid(samples, 8, 2)[0])
    if not panels:
        return None
    gap = np.full((panels[0].shape[0], 8), 1.0, dtype=np.float32)  # white separator
    row = np.concatenate(sum(([p, gap] for p in panels), [])[:-1], axis=1)
    pixels = np.round(np.clip((row + 1.0) * 127.5, 0, 255)).astype(np.uint8)
    pixels = pixels.repeat(scale, axis=0).repeat(scale, axis=1)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # one grey channel keeps the PNG small (Pillow is a dependency of matplotlib)
    from PIL import Image
    Image.fromarray(pixels, mode="L").save(path, format="png", optimize=True)
    return path


# ---------------------------------------------------------------- main
def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "platform": platform.platform(),
            "python": sys.version.split()[0], "numpy": np.__version__,
            "load_avg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def find_mnist_dir(given):
    if given:
        return os.path.abspath(given)
    from tinygan.data.mnist import find_mnist_dir as find
    return find()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=None,
                   help=f"settings to run (2-D: {', '.join(SETTINGS_2D)}; MNIST: "
                        f"{', '.join(SETTINGS_MNIST)}); default: all of each data kind")
    p.add_argument("--data", nargs="+", default=list(TOY), choices=TOY + IMAGES)
    p.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 (default 5)")
    p.add_argument("--steps", type=int, default=None,
                   help="generator steps for every run (default: each setting's budget)")
    p.add_argument("--out", default="tinygan-runs/quality")
    p.add_argument("--data-dir", default=None, help="MNIST IDX folder (default: as the demo)")
    p.add_argument("--workers", type=int, default=1,
                   help="runs at a time (default 1: CPU times are per run at 1 thread)")
    p.add_argument("--images", default=None,
                   help="also write the figures into this folder (e.g. docs/images)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 1 seed, 20 steps (3 on MNIST), tiny nets")
    args = p.parse_args(argv)

    seeds = 1 if args.quick else args.seeds
    if seeds < 1 or (args.steps is not None and args.steps < 1) or args.workers < 1:
        p.error("--seeds, --steps and --workers must be positive")
    data_dir = find_mnist_dir(args.data_dir) if any(d in IMAGES for d in args.data) else None
    if any(d in IMAGES for d in args.data) and data_dir is None:
        p.error("no MNIST IDX files found; pass --data-dir")
    all_names = {d: _settings_of(d) for d in args.data}
    for name in args.models or []:
        if not any(name in s for s in all_names.values()):
            p.error(f"unknown model setting {name!r} for data {args.data}")

    tasks = []
    for data in args.data:
        table = all_names[data]
        for name, (model, options, steps, _) in table.items():
            if args.models and name not in args.models:
                continue
            if not args.models and name not in (DEFAULT_2D if data in TOY else DEFAULT_MNIST):
                continue
            options = dict(options)
            if args.quick:
                steps = 3 if data in IMAGES else 20
                if data in IMAGES:
                    options.update(ngf=4, ndf=4, batch_size=16)
                else:
                    options.update(hidden=(16, 16))
                if model == "wgan":
                    options["critic_warmup"] = False
            if args.steps is not None:
                steps = args.steps
            for seed in range(seeds):
                tasks.append(dict(name=name, model=model, data=data, seed=seed, steps=steps,
                                  options=options, data_dir=data_dir,
                                  run_dir=os.path.join(args.out, "runs",
                                                       f"{data}-{name}-s{seed}")))
    if not tasks:
        p.error("nothing to run")
    os.makedirs(args.out, exist_ok=True)
    info = machine()
    started = datetime.datetime.now().isoformat(timespec="seconds")
    print(f"# {len(tasks)} runs on {args.workers} workers (1 BLAS thread each); machine: "
          f"{info['cpu']}, {info['logical_cpus']} logical CPUs; load {info['load_avg_at_start']}",
          flush=True)

    floor = None
    if data_dir is not None:
        # train (or load) the cached classifier once, before the workers all want it
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=1):
            floor = real_floor(data_dir)
        print(f"# classifier: test accuracy {floor['classifier_test_accuracy']:.3f}; real-vs-real "
              f"Fréchet floor {floor['frechet']:.2f}", flush=True)

    # longest runs first, so the two workers finish close together
    cost = {"wgan-gp": 3.0, "wgan": 1.5, "dcgan": 1.0, "gan": 1.0}
    tasks.sort(key=lambda t: -((t["steps"] or 3000) * cost.get(t["model"], 1.0)
                               * (20 if t["data"] in IMAGES else 1)))
    records, t0 = [], time.perf_counter()
    import multiprocessing as mp
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=mp.get_context("spawn"),
                             initializer=_init_worker, initargs=(1,)) as pool:
        futures = [pool.submit(run_one, t) for t in tasks]
        for fut in as_completed(futures):
            r = fut.result()
            records.append(r)
            m = r["metrics"] or {}
            what = (f"{m.get('modes')} modes (strict {m.get('modes_strict')}), "
                    f"{100 * m.get('high_quality', float('nan')):.1f}% HQ"
                    if r["data"] in TOY else
                    f"FD {m.get('frechet', float('nan')):.2f}, "
                    f"{m.get('classes_covered')} classes")
            print(f"[{time.perf_counter() - t0:7.0f} s] {r['data']:6s} {r['name']:18s} "
                  f"seed {r['seed']}: {what if not r['diverged'] else 'DIVERGED'}; "
                  f"{r['wall_s']:.0f} s wall, {r['cpu_s']:.0f} s CPU, BLAS threads "
                  f"{r['blas_threads']}", flush=True)
    total = time.perf_counter() - t0
    records.sort(key=lambda r: (r["data"], r["name"], r["seed"]))
    rows = aggregate(records)

    figures = []
    names_2d = [n for n in SETTINGS_2D if any(r["name"] == n and r["data"] in TOY
                                              for r in records)]
    names_img = [n for n in SETTINGS_MNIST if any(r["name"] == n and r["data"] in IMAGES
                                                  for r in records)]
    for folder in filter(None, [args.out, args.images]):
        if any(d in TOY for d in args.data):
            figures.append(figure_2d(records, args.data, names_2d,
                                     os.path.join(folder, "quality_2d.png"), seed=0))
            figures.append(figure_curves(records, args.data, names_2d,
                                         os.path.join(folder, "quality_curves.png")))
        if data_dir is not None:
            figures.append(grids_mnist(records, names_img,
                                       os.path.join(folder, "quality_mnist.png"), seed=0))

    parts = [f"Measured {started} on {info['cpu']} ({info['logical_cpus']} logical CPUs, "
             f"shared with other jobs; load average at start {info['load_avg_at_start']}); "
             f"{args.workers} runs at a time, 1 BLAS thread each; {seeds} seed(s); total "
             f"{total / 60:.1f} min. Mean ± std (ddof=1) over seeds."]
    for data in args.data:
        if data in TOY:
            parts.append(markdown_2d(rows, data))
    if names_2d:
        parts.append("Settings (2-D; `tinygan train MODEL --data DATA --help` lists each "
                     "recipe):\n"
                     + markdown_settings(SETTINGS_2D, names_2d))
    if data_dir is not None:
        parts.append(markdown_mnist(rows, floor))
        parts.append("Settings (MNIST):\n" + markdown_settings(SETTINGS_MNIST, names_img))
    md = "\n\n".join(parts) + "\n"
    with open(os.path.join(args.out, "quality.md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"started": started, "machine": info, "total_s": round(total, 1),
                   "workers": args.workers, "seeds": seeds, "quick": args.quick,
                   "settings_2d": SETTINGS_2D, "settings_mnist": SETTINGS_MNIST,
                   "real_floor": floor, "rows": rows, "runs": records,
                   "figures": [f for f in figures if f]}, f, indent=2, default=list)
    print()
    print(md)
    print(f"# wrote {os.path.join(args.out, 'results.json')}, "
          f"{os.path.join(args.out, 'quality.md')}"
          + "".join(f", {f}" for f in figures if f))
    return 0


if __name__ == "__main__":
    sys.exit(main())
