"""``tinygan demo``: the GAN family on built-in data, in under 5 minutes on 2 CPU cores.

Trains GAN, GAN with instance noise, WGAN (weight clipping) and WGAN-GP on ``ring8``
(the VEEGAN/PacGAN ring of 8 Gaussians), and DCGAN on digits when the MNIST files are
at hand (``tinygan.data.find_mnist_dir``: ``$TINYGAN_DATA``, ``../shared/data/mnist``,
the download cache; nothing is downloaded).  Every run uses its model's *default
recipe* (:data:`tinygan.gan.config.TOY_RECIPES` and ``IMAGE_RECIPES``: architecture,
optimiser, learning-rate and noise schedules) with a shorter budget, ``--steps N``: the
toy runs are whole runs whose schedules decay to 0 over the demo's N steps (measured on
ring8, 6 Dec 2026, third session: GAN 8 strict modes / 92 % high quality in 1,500 steps,
GAN + instance noise 8 / 90 %, WGAN 2 / 12 % in 600 steps, WGAN-GP 8 / 72 % in 1,000
steps — where stopping a default run after 400 steps gave 0 strict / 4 %); DCGAN is the
first 600 steps of its default run (Fréchet distance 34.7). Each run gets a run folder
(config, metrics, checkpoint, samples, figures); the demo adds one comparison figure per
data set (samples over the true modes, the metrics in each panel's title) and
``summary.md`` / ``summary.json``, which state each run's budget beside the default's.
grid25, whose runs need their whole default budgets, is measured in benchmarks/QUALITY.md
instead.

The runs are independent, so on a machine with idle cores they train side by side, one
process and one thread each (``--workers N``; default: the idle cores): on 2 cores the
demo then takes about half the time of one run after another, where a second thread per
run gains little on these small MLPs (workload (a) of benchmarks/bench_steps.py: 0.84×
the one-thread time).  One thread per run also makes the numbers independent of the
machine's load and of the worker count (tests/test_cli.py).
"""
from __future__ import annotations

import json
import os
import time

__all__ = ["run_demo", "find_mnist", "DEMO_RUNS", "DEMO_STEPS"]

# name → (model, options beyond the default recipe)
DEMO_RUNS = {
    "gan": ("gan", {}),
    "gan-instance-noise": ("gan", {"instance_noise": True}),  # True: the bare flag's σ0
    "wgan": ("wgan", {}),
    "wgan-gp": ("wgan-gp", {}),
}
# (name, data) → the demo's generator steps (the defaults' are in TOY_RECIPES), each
# 20–60 CPU-seconds at 1 thread on a 2-core AMD EPYC.  Clipped WGAN concentrates on the
# modes only late in its 3,000-step default run (benchmarks/QUALITY.md): at 600 steps most
# of its samples lie on the ring, between the modes (seed 0: 2 strict / 12 %), and whole
# runs of 1,000 and 1,500 steps did no better for their cost (0 / 5 % and 2 / 22 %).
DEMO_STEPS = {
    ("gan", "ring8"): 1500, ("gan-instance-noise", "ring8"): 1500, ("wgan", "ring8"): 600,
    ("wgan-gp", "ring8"): 1000,
}
TOY_SETS = ("ring8",)
# DCGAN on digits: the default recipe (tinygan.gan.config.IMAGE_RECIPES: ngf = ndf = 64,
# m = 32, rates 1.6e-3 for G and 8e-4 for D, sampled from G's moving average), stopped after
# the first _DCGAN_STEPS of its 2,500 steps.
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


def _demo_tasks(quick, mnist):
    """[(data, name, model, train options, the default's steps)], in the order of the
    summary: every toy run, then DCGAN on digits when ``mnist`` names its folder."""
    from .gan.config import make_config
    tasks = []
    for data in TOY_SETS:
        for name, (model, extra) in DEMO_RUNS.items():
            opts = dict(extra)
            default = make_config(model, data=data, **opts).steps
            steps = 5 if quick else DEMO_STEPS[(name, data)]
            opts.update(data=data, steps=steps, sample_every=0, checkpoint_every=steps,
                        n_samples=500 if quick else 2500)
            if model == "wgan" and quick:
                opts["critic_warmup"] = False
            tasks.append((data, name, model, opts, default))
    if mnist is not None:
        opts = dict(_DCGAN, data_dir=mnist, steps=2 if quick else _DCGAN_STEPS)
        if quick:
            opts.update(ngf=4, ndf=4, batch_size=16, n_samples=16)
        default = make_config("dcgan", data="mnist", data_dir=mnist).steps
        tasks.append(("mnist", "dcgan", "dcgan", opts, default))
    return tasks


def _train_task(out_dir, task, progress):
    """Train one demo run (in this process or a pool worker); its summary."""
    from .gan.config import make_config
    from .gan.train import train
    if _STOP and _STOP[0].is_set():
        return None
    data, name, model, opts, default = task
    out = os.path.join(out_dir, f"{data}-{name}")
    # One thread per run, whatever the load: the demo's numbers then depend on the seed
    # only, never on how busy the machine was or on how many runs share it.
    cfg = make_config(model, out=out, threads=1, progress=progress, **opts)
    _clear(out)
    summary = train(cfg)
    summary["default_steps"] = default
    return summary


_STOP = []  # in a pool worker: the demo's "stop" event (set on Ctrl-C)


def _init_worker(stop):
    """A pool worker: Ctrl-C and SIGTERM are handled inside train() (checkpoint, then
    stop); between runs they must not kill the worker with a traceback, and once the
    demo was interrupted the worker starts no further run."""
    import signal
    _STOP.append(stop)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _train_all(out_dir, tasks, workers, log, progress):
    """{(data, name): summary}: the runs one after another (``progress``: train()'s
    progress option), or on ``workers`` processes (no progress bars)."""
    def report(task, summary):
        data, name = task[0], task[1]
        m = summary["metrics"]
        if data == "mnist":
            log(f"[demo]   {name}: classifier Fréchet distance {_fmt(m.get('frechet'))}, "
                f"{m.get('classes_covered', '?')}/10 classes, {summary['cpu_s']:.1f} CPU-s")
        else:
            log(f"[demo]   {name} on {data}: {m['modes']}/{m['n_modes']} modes (strict "
                f"{m['modes_strict']}), {100 * m['high_quality']:.1f}% high quality, "
                f"{summary['cpu_s']:.1f} CPU-s")

    done = {}
    if workers <= 1:
        for task in tasks:
            log(f"[demo] training {task[1]} on {task[0]} for {task[3]['steps']} steps "
                f"(default {task[4]})")
            done[task[:2]] = summary = _train_task(out_dir, task, progress)
            report(task, summary)
        return done
    import multiprocessing
    import signal
    from concurrent.futures import ProcessPoolExecutor, as_completed, wait
    log(f"[demo] training {len(tasks)} runs, {workers} at a time (one process and one thread "
        f"each): " + ", ".join(f"{t[1]} on {t[0]} {t[3]['steps']} steps (default {t[4]})"
                               for t in tasks))
    # Longest first (DCGAN, then the critics' five steps per G step), so the processes
    # finish close together.
    order = sorted(tasks, key=lambda t: -(t[3]["steps"] * (20 if t[0] == "mnist" else 1)
                                          * (3 if t[2] in ("wgan", "wgan-gp") else 1)))
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_init_worker, initargs=(stop,))
    try:
        futures = {pool.submit(_train_task, out_dir, t, False): t for t in order}
        for fut in as_completed(futures):
            task = futures[fut]
            done[task[:2]] = fut.result()
            report(task, done[task[:2]])
    except BaseException:
        # Ctrl-C: no run starts any more, and each running one is told to stop (SIGTERM:
        # train() writes its checkpoint after the current iteration, as for Ctrl-C, which
        # the terminal may have sent it already; a second SIGINT would stop it at once).
        stop.set()
        for fut in futures:
            fut.cancel()
        # A worker still building its run ignores the signal (it comes before train()
        # installs its handler), so it is repeated until every started run has stopped.
        while not all(fut.done() for fut in futures):
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGTERM)
            wait(futures, timeout=0.5)
        pool.shutdown(wait=True)
        for fut, task in futures.items():
            if not fut.cancelled() and fut.exception() is not None:
                log(f"[demo]   {task[1]} on {task[0]}: {fut.exception()}")
        raise
    pool.shutdown(wait=True)
    return done


def _children_cpu_s():
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return 0.0
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_demo(out_dir: str = "tinygan-demo", quick: bool = False, log=print,
             workers: int | None = None) -> dict:
    """Train the family, write figures and a summary under ``out_dir``; return the summary.

    ``quick=True`` runs a few steps of each (a smoke test, seconds not minutes).  The runs
    are independent, so they train side by side on ``workers`` processes (default: the
    idle cores, ``tinygan.gan.train.idle_cores``; quick runs one after another), one
    thread each; the results are the same bits either way.
    """
    from .gan.run import json_safe, prepare_out_dir
    from .gan.train import idle_cores
    prepare_out_dir(out_dir)
    started, cpu0 = time.perf_counter(), time.process_time() + _children_cpu_s()
    mnist = find_mnist()
    tasks = _demo_tasks(quick, mnist)
    if workers is None:
        # half a second of /proc/stat, not the lagging load average: README's first
        # command runs `pip install` just before this line
        workers = 1 if quick else idle_cores(window_s=0.5)
    workers = max(1, min(int(workers), len(tasks)))
    done = _train_all(out_dir, tasks, workers, log, progress=False if quick else None)
    results, figures = {}, {}
    for data, name, *_ in tasks:
        results.setdefault(data, {})[name] = done[(data, name)]
    for data in TOY_SETS:
        figures[data] = _comparison_figure(results[data], data,
                                           os.path.join(out_dir, f"{data}_comparison.png"))
    floor = None
    if mnist is not None:
        from .gan.outputs import real_digit_floor
        floor = real_digit_floor("mnist", mnist).get("frechet")
        figures["mnist"] = _digit_figure(results["mnist"]["dcgan"], floor,
                                         os.path.join(out_dir, "mnist_comparison.png"))
        log(f"[demo] digits: real vs real Fréchet distance {_fmt(floor)} (the floor)")
    else:
        log("[demo] no MNIST files found (set TINYGAN_DATA); skipping DCGAN on digits")
    total = {"wall_s": round(time.perf_counter() - started, 1),
             "cpu_s": round(time.process_time() + _children_cpu_s() - cpu0, 1),
             "workers": workers}
    summary = json_safe({**total, "figures": figures, "digit_floor": floor, "runs": results})
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, default=str, allow_nan=False)
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(_markdown(results, total, floor))
    log(f"[demo] done in {total['wall_s']} s ({total['cpu_s']} CPU-s, {workers} process(es)). "
        f"Summary: {os.path.join(out_dir, 'summary.md')}; figures: "
        f"{', '.join(figures.values())}")
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
    lines += ["", f"Total: {total['wall_s']} s wall, {total['cpu_s']} s CPU, "
              f"{total['workers']} run(s) at a time, one thread each.", ""]
    return "\n".join(lines)


def _clear(out):
    """A demo re-run replaces its previous runs (the trainer refuses to overwrite a run)."""
    for name in ("checkpoint.npz", "metrics.jsonl"):
        path = os.path.join(out, name)
        if os.path.exists(path):
            os.remove(path)
