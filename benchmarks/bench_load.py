"""Training speed through `tinygan.gan.train.train` (the user's path, PoolTuner included) at
1 and 2 host threads, on an idle machine and with one core kept busy by another process.

    python benchmarks/bench_load.py                       # dcgan on digits, wgan-gp on ring8
    python benchmarks/bench_load.py --runs wgan-gp:ring8:150 --repeat 3

Prints, per (run, load, threads), the median training-loop wall time per generator step
over the repeats (threads interleaved within each repeat) and the fraction of iterations
the tuner ran with the pool paused.  "Never slower with more threads" means the 2-thread
time is at most the 1-thread time in both load columns.  Figures, not a test: run it alone.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def run_once(model, data, steps, threads, data_dir):
    from tinygan.gan.config import make_config
    from tinygan.gan.train import train
    with tempfile.TemporaryDirectory() as out:
        extra = {"data_dir": data_dir} if data == "mnist" else {}
        cfg = make_config(model, data=data, steps=steps, threads=threads, out=out,
                          progress=False, figures=False, sample_every=0, log_every=1000,
                          checkpoint_every=10 ** 9, n_samples=64, **extra)
        s = train(cfg)
    return s["wall_s"] / steps, s["pool_paused_fraction"]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", nargs="+", default=["dcgan:mnist:80", "wgan-gp:ring8:150"],
                   help="MODEL:DATA:STEPS (default: dcgan:mnist:80 wgan-gp:ring8:150)")
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args(argv)
    from tinygan.data.mnist import find_mnist_dir
    import numpy as np
    data_dir = find_mnist_dir()
    rows = []
    for spec in args.runs:
        model, data, steps = spec.split(":")
        if data == "mnist" and data_dir is None:
            print(f"# {spec}: no MNIST files, skipped")
            continue
        for load in ("idle", "one core busy"):
            busy = (subprocess.Popen([sys.executable, "-c", "while True: pass"])
                    if load != "idle" else None)
            try:
                got = {1: [], 2: []}
                for _ in range(args.repeat):
                    for threads in (1, 2):
                        got[threads].append(run_once(model, data, int(steps), threads, data_dir))
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
            t1 = np.median([t for t, _ in got[1]])
            t2 = np.median([t for t, _ in got[2]])
            paused = np.mean([f for _, f in got[2]])
            rows.append((spec, load, 1e3 * t1, 1e3 * t2, t2 / t1, paused))
            print(f"{spec:20s} {load:14s} 1 thread {1e3 * t1:7.1f} ms/step   2 threads "
                  f"{1e3 * t2:7.1f} ms/step   2/1 = {t2 / t1:.2f}   pool paused "
                  f"{100 * paused:.0f} % of iterations", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
