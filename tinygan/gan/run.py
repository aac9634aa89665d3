"""The run object: everything about a training run that is not its algorithm.

A loop (:mod:`tinygan.gan.loops`) yields one record per generator iteration;
:meth:`Run.consume` takes them and owns the rest:

* the run folder: ``config.json``, ``metrics.jsonl`` (one JSON object per
  logged step), ``checkpoint.npz``, ``samples.npy``, the figures and
  ``summary.json``; a lock file (``run.lock``, holding the owner's pid) so that
  two runs never write one folder;
* a progress bar with live losses (tqdm; silent when stderr is not a terminal);
* a finiteness check of every record at every step, and of the whole state —
  parameters, batch-norm running statistics, optimiser state — at every
  logged step and before every checkpoint: a NaN/inf stops the run with
  :class:`TrainingDiverged`, naming the step, and the last good checkpoint
  (finite everywhere) stays in place;
* periodic checkpoints (:mod:`tinygan.gan.checkpoint`), and one more on
  Ctrl-C (SIGINT) or SIGTERM, taken after the iteration in progress
  completes, so an interrupted run loses no work and resumes exactly.

Samples for figures and ``samples.npy`` use noise from their own host
generator (:func:`tinygan.gan.sample.generate`), so drawing them never
changes the training's random stream.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import json
import math
import os
import signal
import sys
import threading
import time

import numpy as np

from .. import backend as B
from ..autograd import Tensor
from .checkpoint import (CHECKPOINT, array_state, nonfinite_entries, run_state,
                         save_checkpoint)
from .config import ConfigError, TrainConfig
from .outputs import METRICS, sample_metrics, write_outputs
from .pool_tuner import PoolTuner
from .sample import generate

__all__ = ["Run", "TrainingDiverged", "RunInterrupted", "RunLock", "read_metrics",
           "prepare_out_dir", "remove_if_empty", "CONFIG",
           "SAMPLES", "LOCK"]

CONFIG, SAMPLES, LOCK = "config.json", "samples.npy", "run.lock"


class TrainingDiverged(RuntimeError):
    """A loss or the state became NaN/inf; ``step``: the generator step, ``checkpoint``:
    the file kept (None when none was written)."""

    def __init__(self, message, step, checkpoint):
        super().__init__(message)
        self.step, self.checkpoint = step, checkpoint

    def __reduce__(self):  # picklable, so a run in a worker process can report it
        return type(self), (str(self), self.step, self.checkpoint)


class RunInterrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM stopped the run after a checkpoint of step ``step`` was written."""

    def __init__(self, message, step, signum):
        super().__init__(message)
        self.step, self.signum = step, signum

    def __reduce__(self):
        return type(self), (str(self), self.step, self.signum)


# ---------------------------------------------------------------- the run folder and its lock
def prepare_out_dir(out: str) -> bool:
    """Make sure ``out`` is a folder this process can write (create it); else one line.
    Returns whether this call created it (see :func:`remove_if_empty`)."""
    if out == "" or out is None:
        raise ConfigError("--out must name a folder, got an empty string")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ConfigError(f"--out {out} is a file, not a folder")
    created = not os.path.exists(out)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    probe = os.path.join(out, f".write-probe-{os.getpid()}")
    try:  # os.access says yes to root even on a read-only file system: try it
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as exc:
        raise ConfigError(f"--out {out}: the folder is not writable ({exc.strerror})") from None
    return created


def remove_if_empty(out: str) -> None:
    """Remove the folder ``out`` if nothing was written into it: a run refused before it
    started (a bad option, missing data) leaves no empty run folder behind.  A folder with
    anything in it is kept (``rmdir`` only removes empty ones)."""
    with contextlib.suppress(OSError):
        os.rmdir(out)



def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


class RunLock:
    """An exclusive lock on a run folder: ``run.lock`` created with O_EXCL, holding the pid.

    A second run on the same folder is refused with one line; a lock left by a
    process that no longer exists (killed with -9) is stale and taken over.
    """

    def __init__(self, out_dir: str):
        self.path = os.path.join(out_dir, LOCK)
        self.held = False

    def acquire(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and owner != os.getpid() and _pid_alive(owner):
                    raise ConfigError(f"{os.path.dirname(self.path) or '.'} is in use by "
                                      f"another run (pid {owner}, {self.path}); wait for it "
                                      f"or choose another --out") from None
                with contextlib.suppress(FileNotFoundError):  # stale: its owner is gone
                    os.remove(self.path)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(f"{os.getpid()}\n")
            self.held = True
            return
        raise ConfigError(f"cannot lock {self.path}")

    def _owner(self):
        try:
            with open(self.path) as f:
                return int(f.read().strip() or -1)
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self.held:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
            self.held = False

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def read_metrics(path: str, keep_step: int = None) -> tuple:
    """The rows of ``metrics.jsonl`` (up to ``keep_step`` when given) and the number of torn
    or unreadable lines dropped (a kill mid-write leaves a partial last line)."""
    rows, dropped = [], 0
    if not os.path.exists(path):
        return rows, dropped
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                dropped += 1
                continue
            if keep_step is None or row.get("step", 0) <= keep_step:
                rows.append(row)
    return rows, dropped


@contextlib.contextmanager
def _deferred_signals(flag: dict):
    """While inside, SIGINT/SIGTERM only set ``flag['signum']`` (a second SIGINT interrupts
    at once); the run checks it after each completed iteration."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if flag.get("signum") == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag["signum"] = signum
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def json_safe(obj):
    """``obj`` with every non-finite float replaced by None: JSON has no NaN (``null``)."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _as_float(v) -> float:
    return float(v.item()) if isinstance(v, Tensor) else float(v)


# ---------------------------------------------------------------- the run
class Run:
    """One run folder and the services around a loop; see the module docstring.

    ``real`` is the loop's data source (its ``seen`` count gives samples/s);
    ``step`` the generator steps already done (a resumed run's checkpoint step).
    """

    def __init__(self, cfg: TrainConfig, G, D, opt_g, opt_d, data, real, out_dir: str,
                 step: int = 0, ema=None):
        self.cfg, self.G, self.D, self.opt_g, self.opt_d = cfg, G, D, opt_g, opt_d
        self.ema = ema  # GeneratorEMA or None: checkpointed, and what samples are drawn from
        self.data, self.real, self.out_dir = data, real, out_dir
        self.step = int(step)
        self.last_checkpoint = self.step if step else None
        self._bar = None
        self._log_clock = (time.perf_counter(), self.step, 0)
        self._signal = {}

    def _sampler(self):
        """What samples are drawn from: the moving average of G when the run keeps one."""
        return self.ema.sampler() if self.ema is not None else self.G

    def path(self, name: str) -> str:
        return os.path.join(self.out_dir, name)

    # ------------------------------------------------------------ the folder
    def start(self, resumed: bool) -> None:
        """Prepare the folder: drop orphan temporary files of a killed save, and either trim
        the metrics log to the checkpoint (resume) or start it afresh and write step 0."""
        for tmp in glob.glob(self.path(".tmp-*")) + glob.glob(self.path("*.tmp")):
            with contextlib.suppress(OSError):
                os.remove(tmp)
        if resumed:
            rows, dropped = read_metrics(self.path(METRICS), keep_step=self.step)
            if dropped:
                print(f"tinygan: note: dropped {dropped} torn line(s) at the end of "
                      f"{self.path(METRICS)} (a run killed mid-write)", file=sys.stderr)
            self._rewrite_metrics(rows)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path(METRICS))
            self.save_checkpoint()  # step 0: a good checkpoint exists from the start
        with open(self.path(CONFIG), "w") as f:
            f.write(self.cfg.to_json() + "\n")

    def _rewrite_metrics(self, rows) -> None:
        tmp = self.path(METRICS + ".tmp")
        with open(tmp, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        os.replace(tmp, self.path(METRICS))

    def append_metrics(self, row: dict) -> None:
        with open(self.path(METRICS), "a") as f:
            f.write(json.dumps(row) + "\n")

    # ------------------------------------------------------------ consuming the loop
    def consume(self, records) -> dict:
        """Run the loop's records to the end, then write samples.npy, figures, summary.json."""
        progress = self.cfg.progress
        if progress is None:
            progress = sys.stderr.isatty()  # quiet in non-interactive use
        from tqdm.auto import tqdm
        records = iter(records)
        with tqdm(total=self.cfg.steps, initial=self.step, disable=not progress,
                  desc=f"{self.cfg.model} on {self.cfg.data}", unit="step",
                  dynamic_ncols=True) as bar, _deferred_signals(self._signal):
            self._bar = bar
            self._log_clock = (time.perf_counter(), self.step, self.real.seen)
            wall0 = time.perf_counter()
            cpu0 = self._cpu0 = time.process_time()
            # the pool's threads work only while they make iterations faster (a busy
            # machine); the same bits either way
            tuner = PoolTuner()
            try:
                while True:
                    # this iteration's device draws come from (seed, step) alone: exact
                    # resume on every backend (see tinygan.backend.seed_stream)
                    B.seed_stream(self.cfg.seed, self.step)
                    tuner.before()
                    started = time.perf_counter()
                    record = next(records, None)
                    if record is None:
                        break
                    tuner.after(time.perf_counter() - started)
                    self.step += 1
                    self._after_step(record)
                    if self._signal.get("signum"):
                        self._interrupted(self._signal["signum"])
            finally:
                tuner.close()
                self._bar = None
                if hasattr(records, "close"):
                    records.close()
        # this process's training time (a resumed run counts from its resume)
        times = {"wall_s": time.perf_counter() - wall0, "cpu_s": time.process_time() - cpu0,
                 "threads": B.host_threads(), "pool_paused_fraction": tuner.paused_fraction}
        samples = generate(self._sampler(), self.cfg.n_samples, self.cfg.seed)
        np.save(self.path(SAMPLES), samples)
        summary = write_outputs(self.cfg, self.out_dir, self.step, self.D, samples, tag="",
                                final=True)
        summary.update(times, sampled_from="G_ema" if self.ema is not None else "G")
        summary = json_safe(summary)
        with open(self.path("summary.json"), "w") as f:
            json.dump(summary, f, indent=2, allow_nan=False)
        return summary

    def _after_step(self, record: dict) -> None:
        cfg, step = self.cfg, self.step
        values = {k: _as_float(v) for k, v in record.items()}
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:
            self._diverged(", ".join(f"{k} = {values[k]}" for k in bad))
        last = step == cfg.steps
        if self._bar is not None:
            self._bar.update(1)
        if step % cfg.log_every == 0 or last or step == 1:
            self._check_state()
            self._log(values)
        if step % cfg.checkpoint_every == 0 or last:
            self.save_checkpoint()
        if cfg.sample_every and step % cfg.sample_every == 0 and not last:
            samples = generate(self._sampler(), 64 if cfg.is_image else cfg.n_samples, cfg.seed)
            write_outputs(cfg, self.out_dir, step, self.D, samples, tag=f"_{step:06d}",
                          final=False)
            if not cfg.is_image:  # the learning curve: the toy's mode metrics, cheap in 2-D
                quality = {k: v for k, v in sample_metrics(cfg, samples).items()
                           if k not in ("counts", "n_modes", "n_samples")}
                self.append_metrics(json_safe({"step": step, "event": "samples",
                                               "cpu_s": time.process_time() - self._cpu0,
                                               **quality}))

    def _log(self, values: dict) -> None:
        now = time.perf_counter()
        t0, s0, r0 = self._log_clock
        dt = max(now - t0, 1e-9)
        row = {"step": self.step, **values,
               "samples_per_s": (self.real.seen - r0) / dt, "it_per_s": (self.step - s0) / dt}
        self._log_clock = (now, self.step, self.real.seen)
        self.append_metrics(row)
        if self._bar is not None:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)

    # ------------------------------------------------------------ divergence and checkpoints
    def _state(self) -> dict:
        return run_state(self.step, self.cfg, self.G, self.D, self.opt_g, self.opt_d,
                         self.data, self.ema)

    def _check_state(self, state: dict = None) -> None:
        """Every parameter, buffer and optimiser-state array must be finite."""
        if state is None:  # the arrays only (not the data stream's state, costly to dump)
            state = array_state(self.G, self.D, self.opt_g, self.opt_d, self.ema)
        bad = []
        for part in ("G", "D", "opt_g", "opt_d", "G_ema"):
            bad += [f"{part}.{name}" for name in nonfinite_entries(state.get(part, {}))]
        if bad:
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            self._diverged(f"{', '.join(bad[:3])}{more} are no longer finite")

    def _diverged(self, what: str) -> None:
        where = (f"the last good checkpoint (step {self.last_checkpoint}) is kept at "
                 f"{self.path(CHECKPOINT)}" if self.last_checkpoint is not None
                 else "no checkpoint was written")
        msg = (f"training diverged at step {self.step}: {what}. Stopped; {where}. Continue "
               f"from it with a smaller learning rate: --resume --lr X (now {self.cfg.lr}"
               + (f"; D's --lr-d {self.cfg.lr_d}" if self.cfg.lr_d is not None else "") + ").")
        self.append_metrics({"step": self.step, "event": "diverged", "message": msg})
        raise TrainingDiverged(msg, self.step, self.path(CHECKPOINT)
                               if self.last_checkpoint is not None else None)

    def save_checkpoint(self) -> None:
        """Write ``checkpoint.npz`` (atomic) if the whole state is finite; else stop, keeping
        the previous file.  A full disk leaves the previous checkpoint in place too."""
        state = self._state()
        self._check_state(state)
        try:
            save_checkpoint(self.path(CHECKPOINT), state)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
                kept = (f"the checkpoint of step {self.last_checkpoint} is kept"
                        if self.last_checkpoint is not None else "no checkpoint was written")
                raise ConfigError(f"cannot write {self.path(CHECKPOINT)}: {exc.strerror}; "
                                  f"{kept}") from None
            raise
        self.last_checkpoint = self.step

    def _interrupted(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self.last_checkpoint != self.step:
            self.save_checkpoint()
        self.append_metrics({"step": self.step, "event": "interrupted", "signal": name})
        raise RunInterrupted(f"{name}: stopped after step {self.step}; checkpoint saved at "
                             f"{self.path(CHECKPOINT)} (continue with --resume)",
                             self.step, signum)
