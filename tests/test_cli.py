"""The ``tinygan`` command line: train/sample/demo, resume identity, one-line errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tinygan.cli import main

TINY = ["--hidden", "16,16", "--batch-size", "16", "--n-samples", "100", "--sample-every", "0",
        "--log-every", "1", "--quiet"]


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv,fragment", [
    (["train", "foo"], "invalid choice: 'foo'"),
    (["train", "gan", "--data", "cifar"], "invalid choice: 'cifar'"),
    (["train", "gan", "--batch-size", "0"], "--batch-size: must be a positive integer"),
    (["train", "gan", "--steps", "-3"], "--steps"),
    (["train", "gan", "--lr", "abc"], "--lr"),
    (["train", "wgan", "--n-critic", "0"], "--n-critic"),
    (["train", "dcgan", "--data", "ring8"], "image model"),
    (["train", "wgan-gp", "--arch", "dcgan", "--data", "grid25"], "image model"),
    (["train", "gan", "--data", "ring8", "--epochs", "2"], "--epochs"),
    (["train", "wgan", "--instance-noise", "0.1"], "unrecognized arguments"),
    (["train", "gan", "--steps", "3", "--epochs", "1"], "not allowed with"),
    (["train", "gan", "--hidden", "4,x"], "--hidden"),
    (["train", "gan", "--hidden", "256,,256"], "--hidden: expected comma-separated widths"),
    (["train", "gan", "--hidden", "256,"], "--hidden: expected comma-separated widths"),
    (["train", "gan", "--label-smoothing", "1"], "--label-smoothing: must be a number in [0, 1)"),
    (["train", "dcgan", "--d-dropout", "1"], "--d-dropout: must be a number in [0, 1)"),
    (["train", "wgan", "--d-dropout", "0.3"], "unrecognized arguments"),
    (["sample", "/nonexistent/checkpoint.npz", "--out", "x.npy"], "no checkpoint"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_options_give_one_line_and_exit_2(capsys, monkeypatch, tmp_path, argv, fragment):
    monkeypatch.chdir(tmp_path)
    code, out, err = _run(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinygan: error:"), err
    assert fragment in lines[0]
    assert "Traceback" not in err


def test_data_folder_without_idx_files(capsys, tmp_path):
    code, _, err = _run(capsys, "train", "dcgan", "--data-dir", str(tmp_path), "--out",
                        str(tmp_path / "run"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "train-images-idx3-ubyte" in err and str(tmp_path) in err


def test_help_shows_each_papers_defaults(capsys):
    # each option shows the default recipe's value and, where it differs, the paper's
    for model, expected in [("gan", ["--recipe paper: sgd", "0.1", "momentum (default: 0.5)",
                                     # what --instance-noise keeps on the toys
                                     "10000 toy (8000 on grid25; 6000 on the toys with",
                                     "10000 on grid25 with --instance-noise)",
                                     "0.5,0.99 (0.5,0.999 on the toys with --instance-noise)",
                                     "5000 images", "32 images",
                                     "leaky_relu (relu on the toys with --instance-noise; "
                                     "leaky_relu on gaussian1d with --instance-noise)"]),
                            ("dcgan", ["0.0002", "0.5,0.999", "128"]),
                            ("wgan", ["5e-05", "rmsprop", "0.01", "100 for the first 25"]),
                            ("wgan-gp", ["0.0001", "0.5,0.9", "10.0 images, 0.1 toy"])]:
        with pytest.raises(SystemExit) as info:
            main(["train", model, "--help"])
        assert info.value.code == 0
        text = " ".join(capsys.readouterr().out.split())
        for fragment in expected:
            assert fragment in text, (model, fragment)


def test_train_resume_is_bitwise_identical_and_sample(capsys, tmp_path):
    full, part = str(tmp_path / "full"), str(tmp_path / "part")
    assert main(["train", "wgan-gp", "--steps", "4", "--out", full, *TINY]) == 0
    # the default recipe decays the lr over the run: the first run fixes the span
    assert main(["train", "wgan-gp", "--steps", "2", "--lr-decay-steps", "4", "--out", part,
                 *TINY]) == 0
    assert main(["train", "wgan-gp", "--steps", "4", "--out", part, "--resume", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "done: 4 steps" in out and part in out
    assert np.array_equal(np.load(os.path.join(full, "samples.npy")),
                          np.load(os.path.join(part, "samples.npy")))
    with open(os.path.join(part, "config.json")) as f:
        assert json.load(f)["hidden"] == [16, 16]
    # a second run into a used folder, or a changed setting on resume, is refused
    code, _, err = _run(capsys, "train", "wgan-gp", "--out", part, *TINY)
    assert code == 2 and "--resume" in err
    code, _, err = _run(capsys, "train", "wgan-gp", "--out", part, "--resume",
                        "--batch-size", "32")
    assert code == 2 and "batch_size" in err
    # sampling from the checkpoint (a folder works too)
    npy = str(tmp_path / "s.npy")
    assert main(["sample", os.path.join(part, "checkpoint.npz"), "-n", "7", "--out", npy]) == 0
    assert np.load(npy).shape == (7, 2)
    png = str(tmp_path / "s.png")
    assert main(["sample", part, "-n", "50", "--out", png]) == 0
    assert os.path.getsize(png) > 1000
    code, _, err = _run(capsys, "sample", part, "--out", str(tmp_path / "s.txt"))
    assert code == 2 and ".npy or .png" in err


def test_diverged_run_exits_1_with_the_step(capsys, tmp_path):
    with np.errstate(all="ignore"):
        code, _, err = _run(capsys, "train", "gan", "--recipe", "paper", "--steps", "30",
                            "--lr", "1e30", "--momentum", "0", "--out", str(tmp_path / "r"),
                            *TINY)
    assert code == 1
    assert "diverged at step" in err and "checkpoint" in err and "Traceback" not in err
    assert os.path.exists(tmp_path / "r" / "checkpoint.npz")


@pytest.mark.parametrize("data,line,keys", [
    ("swissroll", "segments of the curve captured",
     {"segments", "segments_strict", "high_quality", "kl", "counts", "n_segments"}),
    ("gaussian1d", "Wasserstein-1 to the data",
     {"wasserstein1", "wasserstein1_real_vs_real", "mean", "std"}),
])
def test_every_toy_reports_its_metrics(capsys, tmp_path, data, line, keys):
    """The swiss roll (no modes) and the 1-D Gaussian report their own metrics, in
    summary.json and on the command line."""
    code, out, _ = _run(capsys, "train", "gan", "--data", data, "--steps", "5",
                        "--out", str(tmp_path / data), *TINY)
    assert code == 0 and line in out
    with open(tmp_path / data / "summary.json") as f:
        metrics = json.load(f)["metrics"]
    assert keys <= set(metrics)
    if data == "gaussian1d":  # two draws of the data: the sample size's floor, far below G's
        assert 0 < metrics["wasserstein1_real_vs_real"] < metrics["wasserstein1"]
    else:
        assert metrics["n_samples"] == 100 and sum(metrics["counts"]) <= 100


def test_python_dash_m_entry_point():
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, "-m", "tinygan", "train", "gan", "--k", "0"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("tinygan: error:") and "--k" in proc.stderr


def test_demo_on_two_processes_gives_the_one_process_numbers(capsys, tmp_path, monkeypatch):
    """`tinygan demo --workers 2` trains the runs side by side in spawned processes, one
    thread each: the same metrics, bit for bit, as one run after another."""
    monkeypatch.setenv("TINYGAN_DATA", str(tmp_path / "nowhere"))
    import tinygan.demo as demo
    monkeypatch.setattr(demo, "find_mnist", lambda: None)  # the workers never look
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"demo{workers}"
        assert main(["demo", "--out", str(out), "--quick", "--workers", str(workers)]) == 0
        with open(out / "summary.json") as f:
            summary = json.load(f)
        assert summary["workers"] == workers
        runs[workers] = {n: r["metrics"] for n, r in summary["runs"]["ring8"].items()}
    assert "2 at a time" in capsys.readouterr().out
    assert runs[1] == runs[2] and set(runs[1]) == set(demo.DEMO_RUNS)


def test_run_errors_survive_the_trip_from_a_worker_process():
    import pickle

    from tinygan.gan.run import RunInterrupted, TrainingDiverged
    for exc in (TrainingDiverged("loss_d is nan at step 7", 7, "/r/checkpoint.npz"),
                RunInterrupted("SIGINT: stopped after step 3", 3, 2)):
        back = pickle.loads(pickle.dumps(exc))
        assert type(back) is type(exc) and str(back) == str(exc)
        assert back.step == exc.step and back.__reduce__()[1] == exc.__reduce__()[1]


def test_demo_quick(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGAN_DATA", str(tmp_path / "nowhere"))  # no digits: toy runs only
    monkeypatch.chdir(tmp_path)
    import tinygan.demo as demo
    monkeypatch.setattr(demo, "find_mnist", lambda: None)
    assert main(["demo", "--out", str(tmp_path / "demo"), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "summary.md" in out and "skipping DCGAN" in out
    for name in ("summary.md", "summary.json", "ring8_comparison.png"):
        assert os.path.exists(tmp_path / "demo" / name), name
    with open(tmp_path / "demo" / "summary.json") as f:
        runs = json.load(f)["runs"]
    assert set(runs) == {"ring8"}
    for data in runs.values():
        assert set(data) == {"gan", "gan-instance-noise", "wgan", "wgan-gp"}
        assert all("modes" in r["metrics"] and r["cpu_s"] > 0 for r in data.values())
