"""``train(config)``: build the models, optimisers and data, then run the loop through a Run.

Everything a run needs is built by the files beside this one, one job each:
:mod:`~tinygan.gan.streams` (data and noise), :mod:`~tinygan.gan.factory`
(networks, optimisers, the loop), :mod:`~tinygan.gan.checkpoint` (the
checkpoint and resume), :mod:`~tinygan.gan.run` (the run folder, logging,
checks), :mod:`~tinygan.gan.outputs` (figures and metrics).
"""
from __future__ import annotations

import dataclasses
import math
import os
import time

from .. import backend as B
from .checkpoint import CHECKPOINT, load_checkpoint, merge_resume, restore
from .config import (ConfigError, TrainConfig, check_applicable, default_data, given_options,
                     resolve)
from .factory import build_ema, build_models, build_optimizer, make_loop
from .run import Run, RunLock, TrainingDiverged, prepare_out_dir, remove_if_empty
from .streams import DataSource, NoiseSource, make_data

__all__ = ["train", "TrainingDiverged", "steps_for_epochs"]


def steps_for_epochs(cfg: TrainConfig, n_images: int) -> int:
    """Generator steps in ``cfg.epochs`` epochs: one epoch = every training image seen once
    by D, i.e. k (or n_critic) minibatches of m images per generator step."""
    per_step = cfg.batch_size * (cfg.k if cfg.model in ("gan", "dcgan") else cfg.n_critic)
    return max(1, math.ceil(cfg.epochs * n_images / per_step))


def choose_threads(cfg: TrainConfig) -> int:
    """How many CPU threads a run gives tinygan's host pool (backend.set_num_threads)
    when ``--threads`` is not set.

    The rule: the cores that are idle when the run starts (usable cores minus the
    1-minute load average, rounded), at least 1.  Measured on 2 cores
    (benchmarks/README.md, "Threads and contention"; ``bench_steps.py`` with and
    without ``--contention``): on an idle machine 2 threads make every step 25–33 %
    faster than 1 (MLP step 33.9 → 25.3 ms, DCGAN-28 147.9 → 113.4 ms); with one
    core kept busy by another process they make it 2.1–3.3× *slower* (32.9 →
    107.1 ms, 142.1 → 305.3 ms), because the BLAS thread that has no core
    spin-waits.  Since the host pool replaced the BLAS's threads, the loss under load
    is 2–19 % (MLP 69.4 → 78.8 ms, DCGAN-28 288.2 → 342.4 ms; benchmarks/README.md,
    "tinygan's own thread pool"), still a loss, so the rule stands.  Load that comes
    after the start is the run's PoolTuner's (tinygan.gan.pool_tuner): it pauses the
    pool while one thread is faster, without changing the split or a bit (DCGAN on
    digits with one core busy: 2 threads 1.04× the 1-thread time, against 1.27× without
    it; benchmarks/bench_load.py).  Only the CPU backend is affected.
    """
    if cfg.backend != "numpy":
        return 1
    return idle_cores()


def idle_cores(window_s: float = 0.0) -> int:
    """The cores this process may use minus the cores busy with other work, rounded; at
    least 1 (the rule of :func:`choose_threads`; ``tinygan demo`` sizes its process pool
    by it).

    "Busy" is the 1-minute load average; with ``window_s`` > 0 it is the busy share of
    this process's cores over the next ``window_s`` seconds (:func:`_busy_cores_now`,
    from /proc/stat; the load average where that cannot be read).  The load average lags
    by about a minute both ways: right after a `pip install` or a test run it still
    counts work that has ended — the demo of README's first command then ran its runs
    one at a time, 6 min 15 s instead of about 3 on this project's 2-core machine — and
    a loop started a second ago is not in it yet (measured here: 1.04 cores busy while
    the load average read 0.2).
    """
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        allowed = None
    cores = len(allowed) if allowed else (os.cpu_count() or 1)
    busy = _busy_cores_now(window_s, allowed) if window_s > 0 else None
    if busy is None:
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def _cpu_times(cpus):
    """{cpu: (busy jiffies, total jiffies)} from /proc/stat (Linux), for ``cpus`` (None:
    every cpu); None where the file is not there."""
    try:
        with open("/proc/stat") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out = {}
    for line in lines:
        name, *fields = line.split() or [""]
        if not (name.startswith("cpu") and name[3:].isdigit()) or len(fields) < 5:
            continue
        cpu = int(name[3:])
        if cpus is not None and cpu not in cpus:
            continue
        ticks = [int(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
        out[cpu] = (sum(ticks) - ticks[3] - ticks[4], sum(ticks))
    return out or None


def _busy_cores_now(window_s: float, cpus=None):
    """How many of ``cpus`` other processes kept busy over the next ``window_s`` seconds
    (this process sleeps meanwhile), from /proc/stat; None where it cannot be read."""
    before = _cpu_times(cpus)
    if before is None:
        return None
    time.sleep(window_s)
    after = _cpu_times(cpus)
    if after is None:
        return None
    busy = 0.0
    for cpu, (b0, t0) in before.items():
        b1, t1 = after.get(cpu, (b0, t0))
        if t1 > t0:
            busy += (b1 - b0) / (t1 - t0)
    return busy


def _check_generator_shape(G, data_shape, cfg: TrainConfig) -> None:
    """G's samples must have the data's shape: a discriminator that accepts both sizes would
    otherwise train a 32×32 G against 28×28 data without a word."""
    from ..autograd import Tensor, no_grad
    from ..data.resize import check_sample_shape
    was = G.training
    G.eval()
    try:
        with no_grad():
            shape = G(Tensor._make(B.randn(G.noise_shape(2)), False, None)).shape
    finally:
        G.train(was)
    try:
        check_sample_shape(shape, (2,) + tuple(data_shape), "the generator")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def train(cfg: TrainConfig, resume: bool = False, loop=None) -> dict:
    """Train ``cfg`` into ``cfg.out``; ``resume`` continues its checkpoint.  Returns the summary.

    ``cfg`` itself is left unchanged (the run's resolved config is written to
    ``config.json``).  ``loop``: a function with the signature of the loops in
    :mod:`tinygan.gan.loops`, instead of the model's own.  Raises
    :class:`ConfigError` for bad options, :class:`TrainingDiverged` when a
    loss or the state stops being finite, and :class:`~tinygan.gan.run.RunInterrupted`
    after SIGINT/SIGTERM (with a checkpoint saved).
    """
    cfg = dataclasses.replace(cfg, extra=dict(cfg.extra))
    if cfg.out is None:
        cfg.out = os.path.join("runs", f"{cfg.model}-{cfg.data or default_data(cfg.model)}")
    resolve(cfg)  # bad options are refused before anything touches the disk
    created = prepare_out_dir(cfg.out)
    try:
        return _train_in(cfg, resume, loop)
    except BaseException:
        if created:  # refused before it wrote anything (missing data, a bad resume): no trace
            remove_if_empty(cfg.out)
        raise


def _train_in(cfg: TrainConfig, resume: bool, loop) -> dict:
    """:func:`train` in its prepared run folder."""
    with RunLock(cfg.out):  # before looking at the folder: two runs never share one
        ckpt_path = os.path.join(cfg.out, CHECKPOINT)
        if resume and not os.path.exists(ckpt_path):
            raise ConfigError(f"--resume: no checkpoint at {ckpt_path}")
        if not resume and os.path.exists(ckpt_path):
            raise ConfigError(f"{cfg.out} already holds a run (checkpoint.npz); pass --resume "
                              f"to continue it, or choose another --out")
        ckpt = load_checkpoint(ckpt_path) if resume else None
        given = given_options(cfg)
        if ckpt is not None:
            cfg = merge_resume(TrainConfig.from_dict(ckpt["config"]), cfg)
        cfg = resolve(cfg)
        check_applicable(cfg, given)
        if cfg.threads is None:  # chosen once, stored: a resumed run keeps the same split
            cfg.threads = choose_threads(cfg)
        with B.num_threads(cfg.threads):  # stored in the run: a resume uses the same split
            return _train_locked(cfg, ckpt, loop)


def _train_locked(cfg: TrainConfig, ckpt, loop) -> dict:
    B.set_backend(cfg.backend)
    # Reuse freed host blocks instead of fresh page-faulting mmaps every step (glibc only;
    # opt out with TINYGAN_NO_MALLOC_TUNE=1); see backend.tune_host_allocator.
    B.tune_host_allocator()
    B.manual_seed(cfg.seed)
    data = make_data(cfg)
    if cfg.epochs is not None:
        cfg.steps, cfg.epochs = steps_for_epochs(cfg, data.n), None
    if cfg.instance_noise and cfg.noise_anneal_steps is None:
        # fix σ's schedule now: a run resumed to more steps must not stretch it
        cfg.noise_anneal_steps = cfg.steps
    if cfg.lr_decay == "linear" and cfg.lr_decay_steps is None:
        cfg.lr_decay_steps = cfg.steps  # the same for the learning rate's decay
    cfg.data_shape = list(data.shape)
    try:
        G, D = build_models(cfg, data.shape)
    except ValueError as exc:  # e.g. DCGAN on images of a size it has no layers for
        raise ConfigError(f"{cfg.data} in {cfg.data_dir or 'the data folder'}: {exc}") from None
    _check_generator_shape(G, data.shape, cfg)
    opt_g = build_optimizer(cfg, G.parameters())
    opt_d = build_optimizer(cfg, D.parameters(), cfg.lr_of_d)
    ema = build_ema(cfg, G)
    step = 0
    if ckpt is not None:
        step = restore(ckpt, G, D, opt_g, opt_d, data, os.path.join(cfg.out, CHECKPOINT), ema)
        if step > cfg.steps:
            raise ConfigError(f"--resume: the checkpoint is at step {step}, beyond "
                              f"--steps {cfg.steps}")
        for opt, lr in ((opt_g, cfg.lr), (opt_d, cfg.lr_of_d)):  # the checkpoint's groups
            for group in opt.param_groups:                   # carry the old lr
                group["lr"] = lr
        if cfg.history and cfg.history[-1].get("resumed_at") is None:
            cfg.history[-1]["resumed_at"] = step
    real, noise = DataSource(data, cfg.batch_size), NoiseSource(G, cfg.batch_size)
    run = Run(cfg, G, D, opt_g, opt_d, data, real, cfg.out, step=step, ema=ema)
    run.start(resumed=ckpt is not None)
    summary = run.consume(make_loop(cfg, G, D, opt_g, opt_d, real, noise, start=step, loop=loop,
                                    ema=ema))
    summary["out"] = cfg.out
    return summary
