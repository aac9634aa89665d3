"""The benchmark scripts still run: each one's --help, and a seconds-long run of each.

They print figures and assert nothing about speed or quality (benchmarks/README.md); what
is checked here is that they run on today's library at all — a kernel's signature that
grew an argument once left gemm_floor.py failing on its first step, unnoticed, because
nothing ran it.  Every run is a fresh process (the scripts set thread counts and
allocator options process-wide), on one BLAS thread.
"""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
SCRIPTS = sorted(f for f in os.listdir(BENCH) if f.endswith(".py") and not f.startswith("_"))


def run_script(name, *args, timeout=240):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    return subprocess.run([sys.executable, os.path.join(BENCH, name), *args],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def torch_or_skip():
    pytest.importorskip("torch")


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_script_answers_help(name):
    out = ok(run_script(name, "--help"))
    assert "usage" in out or "Keys" in out  # argparse's usage, or ablation_2d.py's docstring


def test_bench_steps_times_a_workload_without_torch():
    out = ok(run_script("bench_steps.py", "-w", "a", "-t", "1", "-r", "20", "--warmup", "1",
                        "--no-torch"))
    row = next(line for line in out.splitlines() if line.startswith("| a "))
    assert float(row.split("|")[3].split()[0]) > 0  # a median step time in ms


def test_bench_layers_times_one_layer_without_torch():
    out = ok(run_script("bench_layers.py", "--only", "G28 convT 64->1", "--threads", "1",
                        "--repeat", "20", "--no-torch"))
    assert "| G28 convT 64->1 14->28 |" in out


@pytest.mark.parametrize("workload", ["e"])
def test_gemm_floor_splits_a_step_into_gemms_and_the_rest(workload):
    out = ok(run_script("gemm_floor.py", workload, "--steps", "1", "--warmup", "0"))
    total = next(line for line in out.splitlines() if "conv functions" in line)
    conv_ms, gemm_ms = (float(w) for w in total.replace("ms,", "").split() if
                        w.replace(".", "").isdigit())
    assert 0 < gemm_ms <= conv_ms * 1.5  # replays are best-of-3, the calls single: noisy


def test_gemm_floor_refuses_a_workload_without_convolutions():
    proc = run_script("gemm_floor.py", "a")
    assert proc.returncode == 2 and "invalid choice: 'a'" in proc.stderr


def test_bench_load_runs_a_short_training():
    out = ok(run_script("bench_load.py", "--runs", "gan:ring8:20", "--repeat", "1"))
    assert "gan:ring8:20" in out and "one core busy" in out


def test_quality_quick_writes_its_report(tmp_path):
    ok(run_script("quality.py", "--quick", "--data", "ring8", "--models", "gan", "wgan",
                  "--out", str(tmp_path)))
    results = json.loads((tmp_path / "results.json").read_text())
    assert results and (tmp_path / "quality.md").exists()


def test_torch_reference_trains_a_few_steps():
    torch_or_skip()
    out = ok(run_script("torch_reference.py", "--model", "gan", "--data", "ring8", "--seeds",
                        "1", "--steps", "5"))
    row = json.loads(out.strip().splitlines()[-1])
    assert row["steps"] == 5 and {"modes", "modes_strict", "high_quality"} <= set(row)


@pytest.mark.parametrize("args", [
    ["model=gan", "noise=0.3", "ddrop=0.2"],
    ["model=wgan", "opt=rmsprop", "clipb=0", "xscale=4", "evals=2"],
    ["model=wgan-gp", "gp=0.1", "ema=0"],
])
def test_ablation_2d_runs_each_model(args):
    out = ok(run_script("ablation_2d.py", "steps=6", "hidden=16,16", "data=grid25", *args))
    row = json.loads(out)
    assert row["done"] == 6 and set(row["raw"]) == {"modes", "modes_strict", "high_quality"}
    assert (row["ema_m"] is None) == ("ema=0" in args)
    assert len(row.get("curve", [])) == (2 if "evals=2" in args else 0)


@pytest.mark.parametrize("args, message", [
    (["bogus=1"], "expected key=value with a key of"),
    (["steps=x"], "steps='x': expected an integer"),
    (["model=wgan", "noise=0.2"], "model=wgan does not use noise"),
    (["hidden=0,4"], "every hidden width must be a positive integer"),
    (["data=swissroll"], "data='swissroll': expected one of ring8, grid25"),
])
def test_ablation_2d_refuses_bad_keys_in_one_line(args, message):
    proc = run_script("ablation_2d.py", "steps=2", *args)
    assert proc.returncode == 2 and proc.stderr.startswith("ablation_2d.py: error: ")
    assert message in proc.stderr and "Traceback" not in proc.stderr
