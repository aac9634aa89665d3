"""Full GAN training steps, tinygan vs PyTorch on the same machine, threads and shapes.

Workloads (benchmarks/README.md; float32; identical architectures in both frameworks):

  a      MLP GAN on 2-D points, batch 256.  G: z(2) → 512 → 512 → 2 (ReLU);
         D: 2 → 512 → 512 → 512 → 1 (ReLU).
  b64    DCGAN for 28×28 digits, batch 64.  G: z(100) → Linear 128·7·7 + BN + ReLU →
  b128   ConvT(128→64, k4 s2 p1) + BN + ReLU → ConvT(64→1, k4 s2 p1) + Tanh;
         D: Conv(1→64, k4 s2 p1) + LReLU(0.2) → Conv(64→128, k4 s2 p1) + BN + LReLU →
         Linear(128·7·7 → 1).  Same with batch 128.
  c      DCGAN 64×64×3 of the DCGAN paper (ngf = ndf = 64, nz = 100), batch 64.
  e      WGAN-GP critic step on the DCGAN-28 critic without batch norm, batch 64:
         critic loss + λ·penalty (double backprop through the convolutions), Adam.
  f      WGAN-GP iteration of the 2-D toy, batch 256: G 2 → 512 → 512 → 512 → 2 and
         critic 2 → 512 → 512 → 512 → 1 (ReLU), 5 critic steps (each with the
         penalty) + 1 generator step, Adam(1e-4, β = (0.5, 0.9)).

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
    "e": ("critic28", 64, "WGAN-GP critic step, DCGAN-28 critic without BN, batch 64"),
    "f": ("wgangp2d", 256, "WGAN-GP 2-D toy: 5 critic steps + 1 G step, 3x512, batch 256"),
}
# targets of tinygan time / PyTorch time: (1 thread, 2 threads)
TARGETS = {"a": (1.0, 1.1), "b64": (1.05, 1.1), "b128": (1.05, 1.1), "c": (1.1, 1.2),
           "e": (1.0, 1.0), "f": (1.1, 1.2)}
GP_LAMBDA, GP_LR, GP_BETAS, N_CRITIC = 10.0, 1e-4, (0.5, 0.9), 5  # Gulrajani et al., Alg. 1
MEMORY_TARGET = 1.0  # peak memory (b), (c), (e): at most PyTorch's
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
            fw.ReLU(), fw.Unflatten(1, (128, 7, 7)),
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
    if kind == "critic28":  # (b)'s critic with its batch norm removed (WGAN-GP §4)
        D = fw.Sequential(
            fw.Conv2d(1, 64, 4, 2, 1), fw.LeakyReLU(0.2),
            fw.Conv2d(64, 128, 4, 2, 1), fw.LeakyReLU(0.2),
            fw.Flatten(), fw.Linear(128 * 7 * 7, 1))
        G, _, zshape, xshape = build("dcgan28", fw)
        return G, D, zshape, xshape
    if kind == "wgangp2d":
        G = fw.Sequential(fw.Linear(NZ_MLP, 512), fw.ReLU(), fw.Linear(512, 512), fw.ReLU(),
                          fw.Linear(512, 512), fw.ReLU(), fw.Linear(512, 2))
        D = fw.Sequential(fw.Linear(2, 512), fw.ReLU(), fw.Linear(512, 512), fw.ReLU(),
                          fw.Linear(512, 512), fw.ReLU(), fw.Linear(512, 1))
        return G, D, (NZ_MLP,), (2,)
    raise ValueError(f"unknown architecture {kind!r}")


def n_params(model, fw_name):
    if model is None:
        return 0
    if fw_name == "torch":
        return sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters())


# ====================================================================== one training step
def _penalty_torch(D, real, fake):
    """WGAN-GP's E(‖∇f(x̂)‖ − 1)² in PyTorch, written as tinygan.gan.gradient_penalty is."""
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    g, = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    norms = torch.sqrt((g * g).sum(dim=tuple(range(1, g.dim()))) + 1e-12)
    return ((norms - 1.0) ** 2).mean()


def make_tinygan_wgan_gp_step(kind: str, batch: int, seed: int = 0):
    """(e) one critic step, or (f) n_critic critic steps + one G step, in tinygan: the
    library's own WGAN-GP pieces (tinygan.gan.steps.critic_step)."""
    from tinygan.gan.steps import critic_generator_step, critic_step, generate_fakes
    tinygan.manual_seed(seed)
    G, D, zshape, xshape = build(kind, tnn)
    opt_g = TAdam(G.parameters(), lr=GP_LR, betas=GP_BETAS)
    opt_d = TAdam(D.parameters(), lr=GP_LR, betas=GP_BETAS)
    real = tinygan.Tensor(TB.rand((batch,) + xshape) * 2.0 - 1.0)
    critic_steps = 1 if kind == "critic28" else N_CRITIC

    def step():
        for _ in range(critic_steps):
            fake = generate_fakes(G, tinygan.Tensor(TB.randn((batch,) + zshape)))
            w_loss, gp, _, _ = critic_step(D, opt_d, real, fake, gp_lambda=GP_LAMBDA)
        if kind == "critic28":
            return w_loss, gp
        return w_loss, critic_generator_step(G, D, opt_g,
                                             tinygan.Tensor(TB.randn((batch,) + zshape)))
    return step, (G if kind == "wgangp2d" else None, D)


def make_torch_wgan_gp_step(kind: str, batch: int, seed: int = 0, device: str = "cpu"):
    """The same WGAN-GP step in PyTorch."""
    torch.manual_seed(seed)
    G, D, zshape, xshape = build(kind, torch.nn)
    G.to(device), D.to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=GP_LR, betas=GP_BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=GP_LR, betas=GP_BETAS)
    real = torch.rand((batch,) + xshape, device=device) * 2.0 - 1.0
    critic_steps = 1 if kind == "critic28" else N_CRITIC

    def step():
        for _ in range(critic_steps):
            with torch.no_grad():
                fake = G(torch.randn((batch,) + zshape, device=device))
            w_loss = D(fake).mean() - D(real).mean()
            gp = _penalty_torch(D, real, fake)
            opt_d.zero_grad()
            (w_loss + GP_LAMBDA * gp).backward()
            opt_d.step()
        if kind == "critic28":
            return w_loss, gp
        for p in D.parameters():
            p.requires_grad_(False)
        loss_g = -D(G(torch.randn((batch,) + zshape, device=device))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
        return w_loss, loss_g
    return step, (G if kind == "wgangp2d" else None, D)


def make_tinygan_step(kind: str, batch: int, seed: int = 0):
    """A closure running one full GAN training step in tinygan (DCGAN loop)."""
    if kind in ("critic28", "wgangp2d"):
        return make_tinygan_wgan_gp_step(kind, batch, seed)
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
    if kind in ("critic28", "wgangp2d"):
        return make_torch_wgan_gp_step(kind, batch, seed, device)
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
def _busy_core():
    """A separate process that keeps one core busy (a pure-Python loop), as another user's
    job on a shared machine does; killed when the benchmark ends."""
    import atexit
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    atexit.register(proc.kill)
    return proc


def run_timing(args):
    if args.contention:
        _busy_core()
        print("# contention: one core kept busy by a CPU-bound process during the timings")
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
    rows, per_thread = [], {}
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
            target = TARGETS[name][0 if threads == 1 else 1]
            per_thread.setdefault(name, {})[threads] = stats["tinygan"].median
            if have_torch:
                r = stats["tinygan"].median / stats["torch"].median
                verdict = "meets" if r <= target else "misses"
                rc = stats["tinygan"].cpu_median / stats["torch"].cpu_median
                print(f"    ratio tinygan/torch = {r:.2f}x  (target <= {target}x: "
                      f"{verdict}); CPU-time ratio {rc:.2f}x")
                ratio = f"{r:.2f}x"
                ratio_cpu = f"{rc:.2f}x"
            tg, th = stats["tinygan"], stats.get("torch")
            rows.append([name, threads, f"{tg.median * 1e3:.1f} [{tg.min * 1e3:.1f}, "
                         f"{tg.max * 1e3:.1f}]",
                         f"{th.median * 1e3:.1f} [{th.min * 1e3:.1f}, {th.max * 1e3:.1f}]"
                         if th else "-", ratio or "-", ratio_cpu or "-",
                         f"<= {target}x"])
    busy = "; one core kept busy by another process" if args.contention else ""
    print(f"\n## summary (median ms per full training step{busy})")
    C.print_table(rows, ["workload", "threads", "tinygan ms [min, max]", "torch ms [min, max]",
                         "ratio", "CPU-time ratio", "target"])
    scaling = [[name, *(f"{t[n] * 1e3:.1f}" for n in sorted(t)),
                f"{t[max(t)] / t[min(t)]:.2f}x", "yes" if t[max(t)] <= t[min(t)] * 1.03 else "NO"]
               for name, t in per_thread.items() if len(t) > 1]
    if scaling:
        print("\n## more threads never slower? (tinygan median ms; <= 3% noise allowed)")
        C.print_table(scaling, ["workload", *(f"{n} thr" for n in sorted(args.threads)),
                                "max/min threads", "never slower"])


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
    p.add_argument("--backend", choices=["numpy", "cupy", "standin"], default="numpy",
                   help="array backend of the tinygan side")
    p.add_argument("--no-torch", action="store_true", help="time tinygan only")
    p.add_argument("--contention", action="store_true",
                   help="keep one core busy with another CPU-bound process while timing")
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
    if args.backend == "standin":  # the CuPy stand-in (benchmarks/gpu_check.py proves the
        import tinygan.testing  # noqa: F401  GPU path on it): registers the backend
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
