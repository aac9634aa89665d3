"""The PyTorch-style scripts in ``examples/`` run under tinygan *and* PyTorch, with the
import line (``import tinygan as torch`` ⇄ ``import torch``) as the only difference.

Each script runs a few steps at tiny sizes under both libraries, in this process.  Both
runs start from the same weights (the script's ``--init`` file: written by the tinygan
run, loaded by the PyTorch run), read the same batches (the shared helper's fixed order)
and draw the same noise (``randn`` / ``rand`` / ``randint`` of both libraries are
replaced by one seeded NumPy stream for the test), so the losses printed for the first
step — those computed before any parameter update — must agree to float32 rounding, and
the tensors the scripts leave behind must have the same shapes.
"""
import io
import os
import re
import runpy
import sys
from contextlib import redirect_stdout

import numpy as np
import pytest

import tinygan

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
IMPORT_LINE = "import tinygan as torch\n"

_MNIST = ["--n_epochs", "1", "--max_steps", "3", "--batch_size", "8", "--latent_dim", "8",
          "--hidden", "8", "--n_data", "64", "--sample_interval", "2"]
# script → (arguments, losses of the first printed line computed before any update,
#           variables whose shapes must agree)
CASES = {
    "gan_mnist": (_MNIST, ("D loss", "G loss"), ("gen_imgs", "valid")),
    "dcgan": (["--niter", "1", "--max_steps", "3", "--batchSize", "8", "--nz", "8", "--ngf",
               "4", "--ndf", "4", "--n_data", "64", "--manualSeed", "1"],
              ("Loss_D", "D(x)"), ("fake", "output", "label")),
    "wgan_gp": (_MNIST + ["--n_critic", "2"], ("D loss",), ("fake_imgs", "real_validity")),
    "cgan": (_MNIST + ["--dropout", "0"], ("D loss", "G loss"),
             ("gen_imgs", "validity_real", "gen_labels")),
    "wgan_clip": (_MNIST + ["--n_critic", "2"], ("D loss",), ("gen_imgs", "fake_imgs")),
    "wgan_gp_2d": (["--iters", "2", "--batch_size", "16", "--dim", "8", "--critic_iters", "1"],
                   ("D cost",), ("fake", "gradient_penalty", "G")),
}
_NUMBER = r"(-?\d+\.\d+)"


def _first_losses(stdout, names):
    for line in stdout.splitlines():
        if line.startswith("["):
            out = {}
            for name in names:
                m = re.search(re.escape(name) + r":?\s*" + _NUMBER, line)
                assert m, f"no {name!r} in the first step's line {line!r}"
                out[name] = float(m.group(1))
            return out
    raise AssertionError(f"the script printed no step line:\n{stdout[-2000:]}")


def _seeded_draws(lib, seed=0):
    """randn/rand/randint for ``lib`` drawing from one NumPy stream (ignoring device)."""
    rng = np.random.default_rng(seed)

    def shape_of(size):
        if len(size) == 1 and not isinstance(size[0], int):
            return tuple(size[0])
        return tuple(size)

    def randn(*size, **kwargs):
        return lib.from_numpy(rng.standard_normal(shape_of(size)).astype(np.float32))

    def rand(*size, **kwargs):
        return lib.from_numpy(rng.uniform(size=shape_of(size)).astype(np.float32))

    def randint(low, high, size, **kwargs):
        return lib.from_numpy(rng.integers(low, high, size=tuple(size)).astype(np.int64))

    return {"randn": randn, "rand": rand, "randint": randint}


def _run(path, args, lib, monkeypatch, folder):
    for name, fn in _seeded_draws(lib).items():
        monkeypatch.setattr(lib, name, fn)
    monkeypatch.setattr(sys, "argv", [path] + args)
    monkeypatch.chdir(folder)
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        namespace = runpy.run_path(path, run_name="__main__")
    return namespace, buffer.getvalue()


def test_each_example_differs_from_its_pytorch_version_in_the_import_line_only():
    for name in CASES:
        source = open(os.path.join(EXAMPLES, name + ".py")).read()
        assert source.count(IMPORT_LINE) == 1, name
        code = [ln for ln in source.splitlines() if ln.startswith(("import ", "from "))]
        assert [ln for ln in code if "tinygan" in ln] == [IMPORT_LINE.strip()], name
        assert "torch." not in " ".join(code), f"{name}: import torch.x differs between libraries"


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_under_both_libraries_and_first_step_agrees(name, torch, tmp_path,
                                                                 monkeypatch):
    args, compared, shaped = CASES[name]
    init = str(tmp_path / "init.npz")
    monkeypatch.syspath_prepend(EXAMPLES)
    source = open(os.path.join(EXAMPLES, name + ".py")).read()
    torch_path = tmp_path / (name + "_torch.py")
    torch_path.write_text(source.replace(IMPORT_LINE, "import torch\n"))
    (tmp_path / "tg").mkdir()
    (tmp_path / "pt").mkdir()
    ours, out_ours = _run(os.path.join(EXAMPLES, name + ".py"), args + ["--init", init],
                          tinygan, monkeypatch, tmp_path / "tg")
    assert os.path.exists(init)  # the tinygan run wrote its initial weights ...
    theirs, out_theirs = _run(str(torch_path), args + ["--init", init], torch, monkeypatch,
                              tmp_path / "pt")  # ... and the PyTorch run started from them
    assert ours["torch"] is tinygan and theirs["torch"] is torch
    for var in shaped:
        assert tuple(ours[var].shape) == tuple(theirs[var].shape), var
    steps_ours = [ln for ln in out_ours.splitlines() if ln.startswith("[")]
    steps_theirs = [ln for ln in out_theirs.splitlines() if ln.startswith("[")]
    assert len(steps_ours) == len(steps_theirs) >= 2
    a, b = _first_losses(out_ours, compared), _first_losses(out_theirs, compared)
    for key in compared:
        # float32 rounding of the forward passes, plus the 6 printed decimals
        assert abs(a[key] - b[key]) <= 1e-5 * abs(b[key]) + 2e-6, (key, a[key], b[key])
    for line in steps_ours:
        assert all(np.isfinite(float(v)) for v in re.findall(_NUMBER, line))
    images = [f for f in os.listdir(tmp_path / "tg") if f.endswith(".png")] + \
        [f for sub in os.listdir(tmp_path / "tg") if os.path.isdir(tmp_path / "tg" / sub)
         for f in os.listdir(tmp_path / "tg" / sub) if f.endswith(".png")]
    if name != "wgan_gp_2d":
        assert images, f"{name} saved no sample grid"


def test_data_helper_falls_back_to_synthetic_digits_without_mnist(monkeypatch):
    monkeypatch.syspath_prepend(EXAMPLES)
    import _data
    import tinygan.data
    monkeypatch.setattr(tinygan.data, "find_mnist_dir", lambda *a, **k: None)
    _data.load_digits.cache_clear()
    try:
        images, labels = _data.load_digits(64, 32, 0)
        assert images.shape == (64, 1, 32, 32) and images.dtype == np.float32
        assert images.min() >= -1 and images.max() <= 1 and set(labels) <= set(range(10))
        imgs, labs = next(iter(_data.mnist_loader(tinygan, 16, 32, n=64)))
        assert imgs.shape == (16, 1, 32, 32) and labs.dtype == np.int64
    finally:
        _data.load_digits.cache_clear()
