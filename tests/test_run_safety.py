"""Runs that never fail silently: every way a run was found to break, each with its test.

Divergence anywhere in the state, two runs on one folder, a kill mid-write, Ctrl-C and
SIGTERM, bad command-line input of every kind, sampling any run, resume in every mode.
"""
import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tinygan.cli import main
from tinygan.gan.checkpoint import load_checkpoint, nonfinite_entries
from tinygan.gan.config import ConfigError, make_config
from tinygan.gan.run import LOCK, RunLock, TrainingDiverged, read_metrics
from tinygan.gan.train import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--hidden", "16,16", "--batch-size", "16", "--n-samples", "50", "--sample-every", "0",
        "--log-every", "1", "--checkpoint-every", "2", "--quiet"]
PY_TINY = dict(hidden=(16, 16), batch_size=16, n_samples=50, sample_every=0, log_every=1,
               checkpoint_every=2, progress=False, figures=False)


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code, err, fragment):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinygan: error:"), err
    assert "Traceback" not in err
    assert fragment in lines[0], (fragment, err)


def _fake_idx_dir(path, n=40, size=28, splits=("train",)):
    from tinygan.data.idx import write_idx
    rng = np.random.default_rng(0)
    os.makedirs(path, exist_ok=True)
    for split in splits:
        prefix = "train" if split == "train" else "t10k"
        write_idx(os.path.join(path, f"{prefix}-images-idx3-ubyte.gz"),
                  rng.integers(0, 256, (n, size, size), dtype=np.uint8))
        write_idx(os.path.join(path, f"{prefix}-labels-idx1-ubyte.gz"),
                  rng.integers(0, 10, (n,), dtype=np.uint8))
    return str(path)


def _assert_all_finite(ckpt):
    for part in ("G", "D", "opt_g", "opt_d"):
        assert nonfinite_entries(ckpt[part]) == [], part


# ---------------------------------------------------------------- 1. finite everywhere
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_dcgan_with_exploding_sgd_keeps_a_checkpoint_finite_everywhere(tmp_path):
    """SGD at lr 1e3 blows up BatchNorm's running variance before any loss is NaN; the kept
    checkpoint must be finite in the parameters, the running statistics and the optimiser."""
    cfg = make_config("dcgan", data="mnist", data_dir=_fake_idx_dir(tmp_path / "idx"),
                      steps=30, batch_size=8, ngf=2, ndf=2, z_dim=4, n_samples=4,
                      optimizer="sgd", lr=1e3, momentum=0.5, sample_every=0, log_every=1,
                      checkpoint_every=1, progress=False, figures=False,
                      out=str(tmp_path / "run"))
    with pytest.raises(TrainingDiverged) as info:
        train(cfg)
    ckpt = load_checkpoint(os.path.join(cfg.out, "checkpoint.npz"))
    assert ckpt["step"] < info.value.step
    _assert_all_finite(ckpt)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_wgan_with_huge_lr_stops_on_inf_in_the_optimiser_state(tmp_path):
    """RMSprop's square average overflows to inf while the clipped weights stay finite: that
    is a divergence too (it used to finish with exit code 0)."""
    cfg = make_config("wgan", data="ring8", steps=20, lr=1e6, critic_warmup=False,
                      out=str(tmp_path / "run"),
                      **dict(PY_TINY, hidden=(64, 64, 64), checkpoint_every=1))
    with pytest.raises(TrainingDiverged, match=r"opt_d\.state\.\d+\.square_avg"):
        train(cfg)
    _assert_all_finite(load_checkpoint(os.path.join(cfg.out, "checkpoint.npz")))


def test_nonfinite_entries_names_the_bad_arrays():
    tree = {"a": np.zeros(3), "b": {"c": np.array([1.0, np.inf]), "d": [np.array([np.nan])]},
            "e": 3, "f": float("nan"), "g": np.arange(3)}
    assert nonfinite_entries(tree) == ["b.c", "b.d[0]", "f"]


# ---------------------------------------------------------------- 2. one run per folder
def test_a_second_run_on_a_locked_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK).write_text(f"{sleeper.pid}\n")
        code, _, err = _run(capsys, "train", "gan", "--steps", "2", "--out", str(out), *TINY)
        _one_line_error(code, err, f"in use by another run (pid {sleeper.pid}")
        assert not (out / "metrics.jsonl").exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    # its owner gone, the lock is stale: the next run takes it over, and releases it
    code, _, err = _run(capsys, "train", "gan", "--steps", "2", "--out", str(out), *TINY)
    assert code == 0, err
    assert not (out / LOCK).exists()


def test_two_simultaneous_runs_on_one_folder(tmp_path):
    out = str(tmp_path / "run")
    cmd = [sys.executable, "-m", "tinygan", "train", "gan", "--steps", "300", "--out", out,
           *TINY]
    env = dict(os.environ, PYTHONPATH=REPO, OPENBLAS_NUM_THREADS="1")
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(out, LOCK)) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    first.communicate(timeout=300)
    assert first.returncode == 0
    assert second.returncode == 2 and "in use by another run" in second.stderr
    steps = [r["step"] for r in read_metrics(os.path.join(out, "metrics.jsonl"))[0]]
    assert steps == list(range(1, 301))  # one run's rows, in order, none interleaved


def test_run_lock_is_exclusive_and_released(tmp_path):
    with RunLock(str(tmp_path)):
        assert (tmp_path / LOCK).read_text().strip() == str(os.getpid())
        other = RunLock(str(tmp_path))
        other.acquire()  # the same live process: re-entrant, not refused
    assert not (tmp_path / LOCK).exists()


# ---------------------------------------------------------------- 3. killed mid-write
def test_resume_drops_a_torn_metrics_line_and_orphan_temp_files(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "gan", "--steps", "2", "--out", out, *TINY]) == 0
    with open(os.path.join(out, "metrics.jsonl"), "a") as f:
        f.write('{"step": 3, "loss_d": 1.2')  # a kill mid-write
    orphan = os.path.join(out, ".tmp-abc123.npz")
    open(orphan, "wb").write(b"partial")
    code, _, err = _run(capsys, "train", "gan", "--steps", "4", "--out", out, "--resume", *TINY)
    assert code == 0, err
    assert "dropped 1 torn line" in err
    assert not os.path.exists(orphan)
    rows, dropped = read_metrics(os.path.join(out, "metrics.jsonl"))
    assert dropped == 0 and [r["step"] for r in rows] == [1, 2, 3, 4]


# ---------------------------------------------------------------- 4. one line, exit 2
@pytest.mark.parametrize("argv,fragment", [
    (["train", "gan", "--seed", "-1"], "--seed"),
    (["sample", "x.npz", "--out", "a.npy", "--seed", "-1"], "--seed"),
    (["train", "gan", "--batch-size", "1000000000000"], "--batch-size"),
    (["train", "gan", "--hidden", "1000000000000"], "--hidden"),
    (["train", "gan", "--z-dim", "1000000000000"], "--z-dim"),
    (["train", "dcgan", "--ngf", "1000000000000"], "--ngf"),
    (["train", "gan", "--out", ""], "--out"),
    (["train", "gan", "--out", "/dev/null"], "not a folder"),
    (["demo", "--out", "/dev/null"], "not a folder"),
    (["train", "gan", "--momentum", "0.9", "--optimizer", "adam"], "--momentum applies only"),
    (["train", "gan", "--data-dir", "somewhere"], "--data-dir applies only"),
    (["train", "gan", "--recipe", "paper", "--betas", "0.5,0.9"], "--betas applies only"),
    (["train", "dcgan", "--hidden", "8"], "--hidden applies only"),
    (["train", "gan", "--noise-anneal-steps", "5"], "--noise-anneal-steps applies only"),
])
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, *argv)
    _one_line_error(code, err, fragment)


def test_out_naming_a_file_or_an_unwritable_folder(capsys, tmp_path, monkeypatch):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    code, _, err = _run(capsys, "train", "gan", "--out", str(a_file), *TINY)
    _one_line_error(code, err, "is a file")
    code, _, err = _run(capsys, "demo", "--out", str(a_file), "--quick")
    _one_line_error(code, err, "is a file")
    # A read-only folder (root ignores permission bits, so the file system's "no" is
    # imitated where the run first writes).
    import builtins
    real_open = builtins.open

    def read_only(path, mode="r", *a, **k):
        if "w" in mode and str(path).startswith(str(tmp_path / "ro")):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, mode, *a, **k)
    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(builtins, "open", read_only)
    code, _, err = _run(capsys, "train", "gan", "--out", str(tmp_path / "ro"), *TINY)
    _one_line_error(code, err, "not writable")


def test_disk_full_while_saving_keeps_the_old_checkpoint(capsys, tmp_path, monkeypatch):
    out = str(tmp_path / "run")
    from tinygan.gan import checkpoint as ck
    real_save, calls = ck.save, []

    def full_after_two(obj, path):
        calls.append(path)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        real_save(obj, path)
    monkeypatch.setattr(ck, "save", full_after_two)
    code, _, err = _run(capsys, "train", "gan", "--steps", "6", "--out", out, *TINY)
    _one_line_error(code, err, "No space left on device")
    assert "checkpoint of step 2 is kept" in err
    assert load_checkpoint(os.path.join(out, "checkpoint.npz"))["step"] == 2


def _trained(tmp_path, name="run", *extra):
    out = str(tmp_path / name)
    assert main(["train", "gan", "--steps", "2", "--out", out, *TINY, *extra]) == 0
    return out


def test_resume_from_a_truncated_checkpoint(capsys, tmp_path):
    out = _trained(tmp_path)
    path = os.path.join(out, "checkpoint.npz")
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    code, _, err = _run(capsys, "train", "gan", "--steps", "4", "--out", out, "--resume", *TINY)
    _one_line_error(code, err, "cannot read checkpoint")
    code, _, err = _run(capsys, "sample", out, "--out", str(tmp_path / "s.npy"))
    _one_line_error(code, err, "cannot read checkpoint")


def test_dcgan_on_images_of_a_size_it_has_no_layers_for(capsys, tmp_path):
    idx = _fake_idx_dir(tmp_path / "idx14", size=14)
    code, _, err = _run(capsys, "train", "dcgan", "--data-dir", idx, "--steps", "1",
                        "--batch-size", "8", "--out", str(tmp_path / "r"), "--quiet")
    _one_line_error(code, err, "img_size")


def test_sample_to_a_folder(capsys, tmp_path):
    out = _trained(tmp_path)
    code, _, err = _run(capsys, "sample", out, "--out", str(tmp_path))
    _one_line_error(code, err, "is a folder")


def _edit_checkpoint(path, edit):
    from tinygan.serialization import load, save
    ckpt = load(path)
    edit(ckpt)
    save(ckpt, path)


@pytest.mark.parametrize("edit,fragment", [
    (lambda c: c["G"].__setitem__(next(iter(c["G"])), np.zeros((3, 3), np.float32)),
     "does not match"),
    (lambda c: c.pop("G"), "lacks G"),
    (lambda c: c.pop("config"), "lacks config"),
    (lambda c: c.__setitem__("config", {**c["config"], "hidden": [32, 32]}), "does not match"),
])
def test_damaged_checkpoints_give_one_line(capsys, tmp_path, edit, fragment):
    out = _trained(tmp_path)
    _edit_checkpoint(os.path.join(out, "checkpoint.npz"), edit)
    code, _, err = _run(capsys, "sample", out, "--out", str(tmp_path / "s.npy"))
    _one_line_error(code, err, fragment)
    code, _, err = _run(capsys, "train", "gan", "--steps", "4", "--out", out, "--resume", *TINY)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


# ---------------------------------------------------------------- 5. sample any run
def test_sample_reads_image_runs_of_any_shape(capsys, tmp_path):
    """A 32×32 run on 28×28 digits (--resize 32; the data's shape is stored in the run's
    config) trains at 32×32 and samples at 32×32."""
    out = str(tmp_path / "r32")
    code, _, err = _run(capsys, "train", "dcgan", "--data-dir", _fake_idx_dir(tmp_path / "idx"),
                        "--resize", "32", "--steps", "1", "--batch-size", "8", "--ngf", "2",
                        "--ndf", "2", "--z-dim", "4", "--n-samples", "4", "--out", out,
                        "--quiet")
    assert code == 0, err
    assert np.load(os.path.join(out, "samples.npy")).shape == (4, 1, 32, 32)
    code, _, err = _run(capsys, "sample", out, "-n", "3", "--out", str(tmp_path / "s.npy"))
    assert code == 0, err
    assert np.load(tmp_path / "s.npy").shape == (3, 1, 32, 32)
    code, _, err = _run(capsys, "train", "gan", "--resize", "32", "--out", str(tmp_path / "t"))
    _one_line_error(code, err, "--resize applies only to image data")


def test_a_resized_run_is_scored_at_the_classifiers_size(capsys, tmp_path, monkeypatch):
    """A 64×64 DCGAN on 28×28 digits ends with its digit metrics, not a traceback after
    training: the samples are resampled to the classifier's 28×28 and the summary says so."""
    from tinygan.data.resize import resize_images
    from tinygan.gan.outputs import digit_metrics
    monkeypatch.setenv("TINYGAN_DATA", str(tmp_path / "cache"))   # the classifier's cache
    idx = _fake_idx_dir(tmp_path / "idx", splits=("train", "test"))
    out = str(tmp_path / "r64")
    code, printed, err = _run(capsys, "train", "dcgan", "--data-dir", idx, "--resize", "64",
                              "--steps", "1", "--batch-size", "8", "--ngf", "2", "--ndf", "2",
                              "--z-dim", "4", "--n-samples", "20", "--out", out)
    assert code == 0 and "Traceback" not in err, err
    assert "resampled from 64×64 to the classifier's 28×28" in printed
    with open(os.path.join(out, "summary.json")) as f:
        metrics = json.load(f)["metrics"]
    assert metrics["resized_from"] == [64, 64] and np.isfinite(metrics["frechet"])
    samples = np.load(os.path.join(out, "samples.npy"))
    assert samples.shape == (20, 1, 64, 64)
    at_28 = digit_metrics(resize_images(samples, 28), "mnist", idx)
    assert "resized_from" not in at_28 and at_28["frechet"] == metrics["frechet"]


def test_a_generator_of_another_shape_than_the_data_is_refused(tmp_path, monkeypatch):
    from tinygan.gan import factory
    from tinygan.gan.models import DCGANDiscriminator, DCGANGenerator
    real_build = factory.build_models

    def mismatched(cfg, data_shape):  # a 32×32 G beside the 28×28 data
        _, D = real_build(cfg, data_shape)
        return DCGANGenerator(cfg.z_dim, 1, 32, cfg.ngf), D
    cfg = make_config("dcgan", data="mnist", data_dir=_fake_idx_dir(tmp_path / "idx"),
                      steps=1, batch_size=8, ngf=2, ndf=2, z_dim=4, progress=False,
                      figures=False, out=str(tmp_path / "r"))
    monkeypatch.setattr(sys.modules["tinygan.gan.train"], "build_models", mismatched)
    with pytest.raises(ConfigError, match=r"\(1, 32, 32\) but the data has shape "
                                          r"\(1, 28, 28\)"):
        train(cfg)


def test_sample_refuses_a_generator_with_nonfinite_weights(capsys, tmp_path):
    out = _trained(tmp_path)

    def poison(c):
        key = next(iter(c["G"]))
        c["G"][key] = np.full_like(c["G"][key], np.nan)
    _edit_checkpoint(os.path.join(out, "checkpoint.npz"), poison)
    code, _, err = _run(capsys, "sample", out, "--out", str(tmp_path / "s.npy"))
    _one_line_error(code, err, "not finite")
    assert not os.path.exists(tmp_path / "s.npy")


# ---------------------------------------------------------------- 7. Ctrl-C and SIGTERM
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_current_step_and_exits_130(tmp_path, signum):
    out = str(tmp_path / "run")
    env = dict(os.environ, PYTHONPATH=REPO, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "tinygan", "train", "gan", "--steps",
                             "100000", "--out", out, "--checkpoint-every", "100000",
                             "--hidden", "16,16", "--batch-size", "16", "--sample-every", "0",
                             "--log-every", "10", "--quiet"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = os.path.join(out, "metrics.jsonl")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(read_metrics(metrics)[0]) < 3:
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert signal.Signals(signum).name in err and "Traceback" not in err
    ckpt = load_checkpoint(os.path.join(out, "checkpoint.npz"))
    rows = read_metrics(metrics)[0]
    assert rows[-1]["event"] == "interrupted" and rows[-1]["step"] == ckpt["step"] > 20
    # and it resumes from exactly there
    proc = subprocess.run([sys.executable, "-m", "tinygan", "train", "gan", "--steps",
                           str(ckpt["step"] + 2), "--out", out, "--resume", "--quiet"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------- 8. resume in every mode
def test_instance_noise_schedule_does_not_stretch_on_resume(tmp_path):
    opts = dict(PY_TINY, instance_noise=1.0)
    full = make_config("gan", data="ring8", steps=8, out=str(tmp_path / "full"), **opts)
    train(full)
    half = make_config("gan", data="ring8", steps=4, out=str(tmp_path / "half"), **opts)
    train(half)
    more = make_config("gan", data="ring8", steps=8, out=str(tmp_path / "half"),
                       **dict(opts, instance_noise=0.0))
    more.extra["explicit"] = ["steps", "out"]  # as the command line: only --steps given
    train(more, resume=True)
    sig = [r["sigma"] for r in read_metrics(str(tmp_path / "half" / "metrics.jsonl"))[0]]
    # the first run fixed σ's span at its 4 steps: σ stays 0 after step 4, it does not
    # jump back up to 1 − 4/8 = 0.5 as a re-stretched schedule would
    assert sig == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0, 0.0])
    assert full.noise_anneal_steps is None  # train() did not change the caller's config


def test_resume_after_divergence_with_a_smaller_lr_is_recorded(capsys, tmp_path):
    out = str(tmp_path / "run")
    with np.errstate(all="ignore"):
        code, _, err = _run(capsys, "train", "gan", "--recipe", "paper", "--steps", "30",
                            "--lr", "1e30", "--momentum", "0", "--out", out, *TINY)
    assert code == 1 and "--resume --lr" in err
    step = load_checkpoint(os.path.join(out, "checkpoint.npz"))["step"]
    code, _, err = _run(capsys, "train", "gan", "--steps", "30", "--lr", "0.01", "--out", out,
                        "--resume", *TINY)
    assert code == 0, err
    ckpt = load_checkpoint(os.path.join(out, "checkpoint.npz"))
    assert ckpt["config"]["lr"] == 0.01
    assert ckpt["config"]["history"] == [{"resumed_at": step, "lr": [1e30, 0.01]}]
    assert all(g["lr"] == 0.01 for g in ckpt["opt_g"]["param_groups"])


def test_threads_are_stored_and_kept_on_resume(capsys, tmp_path):
    out = _trained(tmp_path, "run", "--threads", "1")
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["threads"] == 1
    code, _, err = _run(capsys, "train", "gan", "--steps", "4", "--out", out, "--resume",
                        "--threads", "2", *TINY)
    _one_line_error(code, err, "threads")


def test_train_does_not_mutate_its_config(tmp_path):
    cfg = make_config("dcgan", data="mnist", data_dir=_fake_idx_dir(tmp_path / "idx", n=16),
                      epochs=1, batch_size=8, ngf=2, ndf=2, z_dim=4, n_samples=4,
                      sample_every=0, progress=False, figures=False, out=str(tmp_path / "r"))
    before = cfg.to_dict()
    assert train(cfg)["steps"] == 2
    assert cfg.to_dict() == before and cfg.steps is None and cfg.epochs == 1


def test_python_api_refuses_options_that_do_not_apply(tmp_path):
    with pytest.raises(ConfigError, match="--momentum applies only to --optimizer sgd"):
        train(make_config("wgan-gp", data="ring8", momentum=0.9, steps=1,
                          out=str(tmp_path / "r"), **PY_TINY))


def test_thread_rule_takes_the_idle_cores(monkeypatch):
    from tinygan.gan.train import choose_threads
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert choose_threads(make_config("gan", data="ring8", backend="standin")) == 1
    dcgan = make_config("dcgan", data="mnist")
    monkeypatch.setattr(os, "getloadavg", lambda: (0.1, 0.0, 0.0))
    assert choose_threads(dcgan) == 2   # an idle 2-core machine
    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 0.0, 0.0))
    assert choose_threads(dcgan) == 1   # one core busy with someone else's work
    monkeypatch.setattr(os, "getloadavg", lambda: (7.0, 0.0, 0.0))
    assert choose_threads(dcgan) == 1   # never fewer than one


def test_idle_cores_with_a_window_measures_the_present_not_the_lagging_load_average(
        monkeypatch):
    T = sys.modules["tinygan.gan.train"]  # the module: tinygan.gan.train is also a function
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.8, 0.0, 0.0))  # a pip install just ended
    monkeypatch.setattr(T, "_busy_cores_now", lambda window_s, cpus: 0.1)
    assert T.idle_cores() == 1                # the load average alone: one core
    assert T.idle_cores(window_s=0.5) == 2    # both idle now
    monkeypatch.setattr(T, "_busy_cores_now", lambda window_s, cpus: 1.0)
    assert T.idle_cores(window_s=0.5) == 1    # one really busy
    monkeypatch.setattr(T, "_busy_cores_now", lambda window_s, cpus: None)  # no /proc/stat
    assert T.idle_cores(window_s=0.5) == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    monkeypatch.setattr(T, "_busy_cores_now", lambda window_s, cpus: 1.0)
    assert T.idle_cores(window_s=0.5) == 1    # work that began a second ago counts too


def test_busy_cores_now_sums_each_cpus_busy_share(monkeypatch):
    T = sys.modules["tinygan.gan.train"]  # the module: tinygan.gan.train is also a function
    snapshots = iter([{0: (100, 1000), 1: (0, 1000)}, {0: (150, 1100), 1: (100, 1100)}])
    monkeypatch.setattr(T, "_cpu_times", lambda cpus: next(snapshots))
    monkeypatch.setattr(T.time, "sleep", lambda s: None)
    assert T._busy_cores_now(0.5, {0, 1}) == pytest.approx(0.5 + 1.0)


def test_cpu_times_reads_this_machines_proc_stat():
    T = sys.modules["tinygan.gan.train"]  # the module: tinygan.gan.train is also a function
    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat on this system")
    times = T._cpu_times(None)
    assert times and all(0 <= busy <= total for busy, total in times.values())
    first = min(times)
    assert set(T._cpu_times({first})) == {first}
    busy = T._busy_cores_now(0.05, None)
    assert 0.0 <= busy <= len(times)


def test_a_refused_run_leaves_no_empty_run_folder(capsys, tmp_path):
    """Missing data or a resume without a checkpoint is refused after the folder was made:
    the folder this call created goes again; one that existed before stays."""
    new = tmp_path / "new"
    code, _, err = _run(capsys, "train", "dcgan", "--data", "mnist", "--data-dir",
                        str(tmp_path / "nothing-here"), "--steps", "2", "--out", str(new))
    _one_line_error(code, err, "cannot load mnist")
    assert not new.exists()
    code, _, err = _run(capsys, "train", "gan", "--data", "ring8", "--resume", "--out", str(new))
    _one_line_error(code, err, "--resume: no checkpoint")
    assert not new.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    code, _, err = _run(capsys, "train", "gan", "--data", "ring8", "--resume", "--out", str(kept))
    assert code == 2 and kept.is_dir()
