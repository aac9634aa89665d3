"""Shared harness of the benchmarks: thread control, interleaved timing, machine report.

Host-only code (it measures the engine, it is not part of it), so it may use
NumPy, PyTorch and threadpoolctl directly.

Timing rules (README.md, "Timing method"): every case is warmed up, then timed ``repeat`` times
(≥ 20) and reported as median with min/max.  Cases that are compared with
each other (tinygan vs PyTorch) are *interleaved* round by round in one
process, so a slow spell of the machine (the host takes the second core away
now and then) hits both sides instead of one.
"""
from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time

import numpy as np
import threadpoolctl

try:  # optional: PyTorch is only the reference side
    import torch
except Exception:  # pragma: no cover - PyTorch not installed
    torch = None

__all__ = ["torch", "set_threads", "machine_info", "print_machine_info", "Stats",
           "time_interleaved", "print_table", "sync_for_backend", "cpu_model", "tune_malloc"]

def set_threads(n: int) -> None:
    """Limit BLAS/OpenMP pools (threadpoolctl) and PyTorch's intra-op pool to ``n`` threads.

    threadpoolctl covers NumPy's OpenBLAS and the OpenMP runtime PyTorch ships;
    ``torch.set_num_threads`` covers PyTorch's own pool.  The limit stays in
    force until the next call.
    """
    from tinygan.backend import set_num_threads
    n = int(n)
    set_num_threads(n)  # the library's own switch (threadpoolctl): OpenBLAS + OpenMP pools
    if torch is not None:
        torch.set_num_threads(n)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """What the figures depend on: CPU, cores, library versions, BLAS and its threads."""
    info = {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": getattr(torch, "__version__", "not installed"),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "blas": [],
    }
    for p in threadpoolctl.threadpool_info():
        info["blas"].append({k: p.get(k) for k in ("user_api", "internal_api", "version",
                                                   "architecture", "threading_layer",
                                                   "num_threads", "filepath")})
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
        try:
            info["torch_mkldnn"] = bool(torch.backends.mkldnn.is_available())
        except Exception:
            pass
    return info


def print_machine_info() -> dict:
    info = machine_info()
    print(f"# machine: {info['cpu']} — {info['logical_cpus']} logical CPUs — {info['platform']}")
    print(f"# python {info['python']}, numpy {info['numpy']}, torch {info['torch']}"
          + (f" (threads={info['torch_threads']}, mkldnn={info.get('torch_mkldnn')})"
             if "torch_threads" in info else ""))
    print(f"# OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']}")
    for p in info["blas"]:
        print(f"# pool: {p['user_api']}/{p['internal_api']} {p['version'] or ''} "
              f"arch={p['architecture']} threads={p['num_threads']} "
              f"({os.path.basename(p['filepath'] or '')})")
    return info


class Stats:
    """Median / min / max of a list of durations in seconds, shown in milliseconds."""

    def __init__(self, seconds, cpu_seconds=None):
        self.samples = list(seconds)
        self.median = statistics.median(self.samples)
        self.min = min(self.samples)
        self.max = max(self.samples)
        # Process CPU time per call: on this shared 2-core host a step can wait for a
        # core; CPU time does not bill that wait (with 1 thread it is the cleaner figure;
        # with 2 threads it sums both threads, so it is not a wall time).
        self.cpu_median = statistics.median(cpu_seconds) if cpu_seconds else None

    def __str__(self):
        s = (f"{self.median * 1e3:9.2f} ms  [min {self.min * 1e3:8.2f}, "
             f"max {self.max * 1e3:8.2f}]")
        if self.cpu_median is not None:
            s += f"  cpu {self.cpu_median * 1e3:9.2f} ms"
        return s


def tune_malloc() -> bool:
    """The library's :func:`tinygan.backend.tune_host_allocator` (glibc keeps freed blocks).

    tinygan's training entry point calls it, so the benchmarks do too, for the
    tinygan side.  It is process-wide: PyTorch in the same process runs under it
    as well (its CPU allocator also goes through malloc); the README reports
    how much that changes PyTorch's time.
    """
    from tinygan.backend import tune_host_allocator
    return tune_host_allocator()


def sync_for_backend(name: str):
    """A function that waits for the device, so GPU timings include the work (no-op on CPU)."""
    if name == "cupy":
        try:
            import cupy

            def sync():
                cupy.cuda.Device().synchronize()
            return sync
        except Exception:  # pragma: no cover - no CuPy here
            pass
    if name == "torch-cuda" and torch is not None and torch.cuda.is_available():
        return torch.cuda.synchronize
    return lambda: None


def time_interleaved(cases: dict, repeat: int = 20, warmup: int = 3, syncs: dict = None):
    """Time each ``cases[name]()`` ``repeat`` times, alternating the cases round by round.

    Returns ``{name: Stats}``.  Garbage collection is run before each round
    (outside the timed region).  Wall time (``perf_counter``) is the reported
    figure; process CPU time is recorded beside it.
    """
    syncs = syncs or {}
    for name, fn in cases.items():
        for _ in range(warmup):
            fn()
        syncs.get(name, lambda: None)()
    times = {name: [] for name in cases}
    cpu = {name: [] for name in cases}
    names = list(cases)
    for r in range(repeat):
        # Alternate which side goes first, so neither always follows the other's cache state.
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            fn, sync = cases[name], syncs.get(name, lambda: None)
            gc.collect()  # outside the timed region: one side's garbage is not billed to the other
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return {name: Stats(times[name], cpu[name]) for name in cases}


def print_table(rows, headers):
    """Plain fixed-width table (also valid Markdown when pasted)."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
