"""Full GAN training steps, tinygan vs PyTorch on the same machine, threads and shapes.

Workloads (benchmarks/README.md; float32; identical architectures in both frameworks):

  a      MLP GAN on 2-D points, batch 256.  G: z(2) → 512 → 512 → 2 (ReLU);
         D: 2 → 512 → 512 → 512 → 1 (ReLU).
  b64    DCGAN for 28×28 digits, batch 64.  G: z(100) → Linear 128·7·7 + BN + ReLU →
  b128   ConvT(128→64, k4 s2 p1) + BN + ReLU → ConvT(64→1, k4 s2 p1) + Tanh;
         D: Conv(1→64, k4 s2 p1) + LReLU(0.2) → Conv(64→128, k4 s2 p1) + BN + LReLU →
         Linear(128·7·7 → 1).  Same with batch 128.
  c      DCGAN 64×64×3 of the DCGAN paper (ngf = ndf = 64, nz = 100), batch 64.

One training step is the DCGAN loop's (PyTorch's dcgan example): draw z, fake = G(z);
D step on real and fake.detach() (non-saturating GAN loss from logits, Adam);
G step through D(fake) (Adam).  Layers followed by batch norm have no bias (it
would be cancelled by the BN mean).  The single layers of (b) and (c) — workload
(d) of benchmarks/README.md — are timed by ``bench_layers.py``, not here.

Run from the repository root:

  python benchmarks/bench_steps.py                        # all workloads, 1 and 2 threads
  python benchmarks/bench_steps.py -w b64 c -t 1 -r 30    # a subset
  python benchmarks/bench_steps.py --memory               # peak memory, fresh subprocess per side
  python benchmarks/bench_steps.py --no-malloc-tune       # glibc's default allocator settings
  python benchmarks/bench_steps.py --profile b64          # cProfile of tinygan steps
  python benchmarks/bench_steps.py --backend cupy         # tinygan side on the GPU

These are figures, not tests: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402
from _common import torch  # noqa: E402

import tinygan  # noqa: E402
import tinygan.nn as tnn  # noqa: E402
from tinygan import backend as TB  # noqa: E402
from tinygan.ops import softplus as t_softplus  # noqa: E402
from tinygan.optim import Adam as TAdam  # noqa: E402

WORKLOADS = {
    # name: (kind, batch, description)
    "a": ("mlp", 256, "MLP GAN 2-D, batch 256"),
    "b64": ("dcgan28", 64, "DCGAN 28x28x1, batch 64"),
    "b128": ("dcgan28", 128, "DCGAN 28x28x1, batch 128"),
    "c": ("dcgan64", 64, "DCGAN 64x64x3 (ngf=ndf=64), batch 64"),
}
TARGETS = {"a": 1.1, "b64": 1.25, "b128": 1.25, "c": 1.5}
MEMORY_TARGET = 1.5
NZ_MLP, NZ_DCGAN = 2, 100
LR, BETAS = 2e-4, (0.5, 0.999)  # DCGAN §4


# ====================================================================== architectures
def build(kind: str, fw):
    """(G, D, nz_shape, x_shape) for framework module ``fw`` (tinygan.nn or torch.nn).

    Both frameworks expose the same layer names and signatures, so one
    definition serves both and the shapes cannot drift apart.
    """
    if kind == "mlp":
        G = fw.Sequential(fw.Linear(NZ_MLP, 512), fw.ReLU(), fw.Linear(512, 512), fw.ReLU(),
                          fw.Linear(512, 2))
        D = fw.Sequential(fw.Linear(2, 512), fw.ReLU(), fw.Linear(512, 512), fw.ReLU(),
                          fw.Linear(512, 512), fw.ReLU(), fw.Linear(512, 1))
        return G, D, (NZ_MLP,), (2,)
    if kind == "dcgan28":
        G = fw.Sequential(
            fw.Linear(NZ_DCGAN, 128 * 7 * 7, bias=False), fw.BatchNorm1d(128 * 7 * 7),
            fw.ReLU(), _unflatten(fw, (128, 7, 7)),
            fw.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), fw.BatchNorm2d(64), fw.ReLU(),
            fw.ConvTranspose2d(64, 1, 4, 2, 1), fw.Tanh())
        D = fw.Sequential(
            fw.Conv2d(1, 64, 4, 2, 1), fw.LeakyReLU(0.2),
            fw.Conv2d(64, 128, 4, 2, 1, bias=False), fw.BatchNorm2d(128), fw.LeakyReLU(0.2),
            fw.Flatten(), fw.Linear(128 * 7 * 7, 1))
        return G, D, (NZ_DCGAN,), (1, 28, 28)
    if kind == "dcgan64":
        ngf = ndf = 64
        G = fw.Sequential(
            fw.ConvTranspose2d(NZ_DCGAN, ngf * 8, 4, 1, 0, bias=False), fw.BatchNorm2d(ngf * 8),
            fw.ReLU(),
            fw.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), fw.BatchNorm2d(ngf * 4),
            fw.ReLU(),
            fw.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), fw.BatchNorm2d(ngf * 2),
            fw.ReLU(),
            fw.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), fw.BatchNorm2d(ngf), fw.ReLU(),
            fw.ConvTranspose2d(ngf, 3, 4, 2, 1, bias=False), fw.Tanh())
        D = fw.Sequential(
            fw.Conv2d(3, ndf, 4, 2, 1, bias=False), fw.LeakyReLU(0.2),
            fw.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), fw.BatchNorm2d(ndf * 2),
            fw.LeakyReLU(0.2),
            fw.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), fw.BatchNorm2d(ndf * 4),
            fw.LeakyReLU(0.2),
            fw.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), fw.BatchNorm2d(ndf * 8),
            fw.LeakyReLU(0.2),
            fw.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), fw.Flatten())
        return G, D, (NZ_DCGAN, 1, 1), (3, 64, 64)
    raise ValueError(f"unknown architecture {kind!r}")


def _unflatten(fw, shape):
    """(N, D) -> (N, *shape): the two frameworks spell Unflatten's arguments differently."""
    if torch is not None and fw is torch.nn:
        return torch.nn.Unflatten(1, shape)
    return fw.Unflatten(*shape)


def n_params(model, fw_name):
    if fw_name == "torch":
        return sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters())


# ====================================================================== one training step
def make_tinygan_step(kind: str, batch: int, seed: int = 0):
    """A closure running one full GAN training step in tinygan (DCGAN loop)."""
    tinygan.manual_seed(seed)
    G, D, zshape, xshape = build(kind, tnn)
    opt_g = TAdam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = TAdam(D.parameters(), lr=LR, betas=BETAS)
    real = tinygan.Tensor(TB.rand((batch,) + xshape) * 2.0 - 1.0)

    def step():
        z = tinygan.Tensor(TB.randn((batch,) + zshape))
        fake = G(z)
        # D step: L_D = E[softplus(−a(x))] + E[softplus(a(G(z)))]  (MATH.md §1)
        opt_d.zero_grad()
        loss_d = t_softplus(-D(real)).mean() + t_softplus(D(fake.detach())).mean()
        loss_d.backward()
        opt_d.step()
        # G step, non-saturating: L_G = E[softplus(−a(G(z)))]
        opt_g.zero_grad()
        loss_g = t_softplus(-D(fake)).mean()
        loss_g.backward()
        opt_g.step()
        return loss_d, loss_g

    return step, (G, D)


def make_torch_step(kind: str, batch: int, seed: int = 0, device: str = "cpu"):
    """The same step in PyTorch (same layers, loss and optimiser settings)."""
    torch.manual_seed(seed)
    G, D, zshape, xshape = build(kind, torch.nn)
    G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    real = torch.rand((batch,) + xshape, device=device) * 2.0 - 1.0
    F = torch.nn.functional

    def step():
        z = torch.randn((batch,) + zshape, device=device)
        fake = G(z)
        opt_d.zero_grad()
        loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = F.softplus(-D(fake)).mean()
        loss_g.backward()
        opt_g.step()
        return loss_d, loss_g

    return step, (G, D)


# ====================================================================== timing mode
def run_timing(args):
    C.print_machine_info()
    print(f"# tinygan backend: {args.backend}")
    torch_device = "cpu"
    if args.backend == "cupy" and torch is not None and torch.cuda.is_available():
        torch_device = "cuda"
    have_torch = torch is not None and not args.no_torch
    if have_torch:
        print(f"# PyTorch device: {torch_device}")
    syncs = {"tinygan": C.sync_for_backend(args.backend),
             "torch": C.sync_for_backend("torch-cuda" if torch_device == "cuda" else "cpu")}
    rows = []
    for threads in args.threads:
        C.set_threads(threads)
        print(f"\n## {threads} thread(s)  (warm-up {args.warmup}, {args.repeat} timed steps, "
              f"tinygan and PyTorch interleaved)")
        for name in args.workloads:
            kind, batch, desc = WORKLOADS[name]
            step_t, (g_t, d_t) = make_tinygan_step(kind, batch)
            cases = {"tinygan": step_t}
            counts = f"G {n_params(g_t, 'tinygan'):,} / D {n_params(d_t, 'tinygan'):,} params"
            if have_torch:
                step_p, (g_p, d_p) = make_torch_step(kind, batch, device=torch_device)
                cases["torch"] = step_p
                pair = ((n_params(g_t, "tinygan"), n_params(d_t, "tinygan")),
                        (n_params(g_p, "torch"), n_params(d_p, "torch")))
                if pair[0] != pair[1]:  # the two definitions must describe the same networks
                    raise SystemExit(f"({name}): parameter counts differ, tinygan {pair[0]} "
                                     f"vs torch {pair[1]}")
            stats = C.time_interleaved(cases, repeat=args.repeat, warmup=args.warmup,
                                       syncs=syncs)
            print(f"({name}) {desc}; {counts}")
            for side, s in stats.items():
                print(f"    {side:8s} {s}")
            ratio = ratio_cpu = ""
            if have_torch:
                r = stats["tinygan"].median / stats["torch"].median
                verdict = "meets" if r <= TARGETS[name] else "misses"
                rc = stats["tinygan"].cpu_median / stats["torch"].cpu_median
                print(f"    ratio tinygan/torch = {r:.2f}x  (target <= {TARGETS[name]}x: "
                      f"{verdict}); CPU-time ratio {rc:.2f}x")
                ratio = f"{r:.2f}x"
                ratio_cpu = f"{rc:.2f}x"
            tg, th = stats["tinygan"], stats.get("torch")
            rows.append([name, threads, f"{tg.median * 1e3:.1f} [{tg.min * 1e3:.1f}, "
                         f"{tg.max * 1e3:.1f}]",
                         f"{th.median * 1e3:.1f} [{th.min * 1e3:.1f}, {th.max * 1e3:.1f}]"
                         if th else "-", ratio or "-", ratio_cpu or "-",
                         f"<= {TARGETS[name]}x"])
    print("\n## summary (median ms per full training step)")
    C.print_table(rows, ["workload", "threads", "tinygan ms [min, max]", "torch ms [min, max]",
                         "ratio", "CPU-time ratio", "target"])


# ====================================================================== memory mode
def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes():
    """VmHWM (peak resident set) from /proc; ru_maxrss where /proc is unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory_child(name: str, side: str, steps: int):
    """Runs in a fresh process: peak RSS growth over ``steps`` training steps of one side."""
    import gc
    C.set_threads(1)
    kind, batch, _ = WORKLOADS[name]
    step = (make_tinygan_step if side == "tinygan" else make_torch_step)(kind, batch)[0]
    gc.collect()
    base = _rss_bytes()
    reset = _reset_peak_rss()
    tm_peak = None
    if side == "tinygan":
        # NumPy reports its buffers to tracemalloc: a second, allocator-level view.
        import tracemalloc
        tracemalloc.start()
    for _ in range(steps):
        step()
    if side == "tinygan":
        tm_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    peak = _peak_rss_bytes()
    print(json.dumps({"peak_growth": peak - base, "base": base, "reset": reset,
                      "tracemalloc_peak": tm_peak}))


def run_memory(args):
    C.print_machine_info()
    print("\n## peak memory of a training step (fresh subprocess per side, 1 thread)")
    print("# method: after building models, data and optimisers, reset the kernel's peak-RSS\n"
          "# mark (/proc/self/clear_refs = 5), run the steps (the first one allocates Adam's\n"
          "# state, so it is included), report VmHWM minus the RSS before the first step.\n"
          "# tinygan also reports tracemalloc's peak (NumPy buffers + Python objects).")
    rows = []
    for name in args.workloads:
        if WORKLOADS[name][0] == "mlp" and not args.all_memory:
            continue
        res = {}
        for side in (["tinygan", "torch"] if torch is not None and not args.no_torch
                     else ["tinygan"]):
            cmd = [sys.executable, os.path.abspath(__file__), "--_memory-child", name, side,
                   "--memory-steps", str(args.memory_steps)]
            out = subprocess.run(cmd, capture_output=True, text=True,
                                 env=dict(os.environ, OMP_NUM_THREADS="1",
                                          OPENBLAS_NUM_THREADS="1"))
            if out.returncode != 0:
                print(out.stderr)
                raise SystemExit(f"memory child {name}/{side} failed")
            res[side] = json.loads(out.stdout.strip().splitlines()[-1])
        mb = lambda b: f"{b / 2**20:.1f}"  # noqa: E731
        tg = res["tinygan"]["peak_growth"]
        line = f"({name}) tinygan peak +{mb(tg)} MiB"
        tm = res["tinygan"]["tracemalloc_peak"]
        line += f" (tracemalloc peak {mb(tm)} MiB)"
        ratio = "-"
        if "torch" in res:
            th = res["torch"]["peak_growth"]
            ratio = f"{tg / th:.2f}x"
            line += f", torch peak +{mb(th)} MiB, ratio {ratio} (target <= {MEMORY_TARGET}x)"
        print(line)
        rows.append([name, mb(tg), mb(tm), mb(res["torch"]["peak_growth"]) if "torch" in res
                     else "-", ratio, f"<= {MEMORY_TARGET}x"])
    print()
    C.print_table(rows, ["workload", "tinygan MiB (RSS)", "tinygan MiB (tracemalloc)",
                         "torch MiB (RSS)", "ratio", "target"])


# ====================================================================== profile mode
def run_profile(args):
    import cProfile
    import pstats
    C.set_threads(args.threads[0])
    kind, batch, desc = WORKLOADS[args.profile]
    step = make_tinygan_step(kind, batch)[0]
    for _ in range(args.warmup):
        step()
    t0 = time.perf_counter()
    # CPU time of this process as the clock: a step preempted by another process on
    # this shared machine is not billed for the time it waited.
    prof = cProfile.Profile(time.process_time)
    prof.enable()
    for _ in range(args.profile_steps):
        step()
    prof.disable()
    wall = time.perf_counter() - t0
    print(f"# cProfile of {args.profile_steps} tinygan steps of ({args.profile}) {desc}, "
          f"{args.threads[0]} thread(s): {wall / args.profile_steps * 1e3:.1f} ms/step "
          f"under the profiler")
    st = pstats.Stats(prof)
    st.sort_stats("tottime").print_stats(args.profile_top)
    st.sort_stats("cumulative").print_stats(args.profile_top)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-w", "--workloads", nargs="+", choices=list(WORKLOADS),
                   default=list(WORKLOADS))
    p.add_argument("-t", "--threads", nargs="+", type=int, default=[1, 2])
    p.add_argument("-r", "--repeat", type=int, default=20, help="timed steps (>= 20)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--backend", choices=["numpy", "cupy"], default="numpy",
                   help="array backend of the tinygan side")
    p.add_argument("--no-torch", action="store_true", help="time tinygan only")
    p.add_argument("--no-malloc-tune", action="store_true",
                   help="do not call tinygan.backend.tune_host_allocator() (which tinygan's "
                        "training entry calls; it keeps freed memory in glibc's heap, fewer "
                        "page faults; process-wide, so it applies to both sides)")
    p.add_argument("--malloc-tune", action="store_true", help=argparse.SUPPRESS)  # old default
    p.add_argument("--memory", action="store_true", help="peak memory instead of time")
    p.add_argument("--all-memory", action="store_true", help="include (a) in --memory")
    p.add_argument("--memory-steps", type=int, default=3)
    p.add_argument("--profile", choices=list(WORKLOADS), help="cProfile tinygan steps")
    p.add_argument("--profile-steps", type=int, default=10)
    p.add_argument("--profile-top", type=int, default=30)
    p.add_argument("--_memory-child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.backend != "numpy":
        tinygan.set_backend(args.backend)
    if args.no_malloc_tune:
        os.environ["TINYGAN_NO_MALLOC_TUNE"] = "1"  # also for --memory's child processes
    tuned = C.tune_malloc()  # what tinygan.gan.train.train() does; a no-op when opted out
    if not args._memory_child:
        print(f"# tinygan.backend.tune_host_allocator() (glibc M_MMAP_THRESHOLD=1 GiB, "
              f"M_TRIM_THRESHOLD=2 GiB, process-wide): {'on' if tuned else 'off'}")
    if args._memory_child:
        return memory_child(*args._memory_child, args.memory_steps)
    if args.profile:
        return run_profile(args)
    if args.memory:
        return run_memory(args)
    if args.repeat < 20:
        print(f"# note: --repeat {args.repeat} is below the minimum of 20 (README.md, Timing method)")
    return run_timing(args)


if __name__ == "__main__":
    main()
