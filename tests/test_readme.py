"""The README's API tour runs as written (with a shorter training run)."""
import os
import re

import numpy as np
import pytest

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def test_api_tour_runs(tmp_path, monkeypatch):
    text = open(README, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "README has no python block"
    code = blocks[0]
    assert "steps=500" in code
    code = code.replace("steps=500", "steps=3")
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    # the tour's claims: gradients of y = Σ tanh(x)² then of Σ 3x² accumulate into x.grad
    x = scope["x"]
    xs = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = np.tanh(xs)
    # d/dx tanh² = 2 tanh (1 − tanh²), then + 6x from the second backward (float32)
    np.testing.assert_allclose(x.grad.numpy(), 2 * t * (1 - t * t) + 6 * xs, rtol=1e-6)
    assert x.grad.dtype == np.float32
    assert scope["g"].numpy() == pytest.approx(3 * xs ** 2, rel=1e-6)
    # the checkpoint holds what was saved: D's state and the optimiser's one Adam step
    state, D = scope["state"], scope["D"]
    assert state["step"] == 1
    for name, value in D.state_dict().items():
        np.testing.assert_array_equal(np.asarray(state["D"][name]), value.numpy()
                                      if hasattr(value, "numpy") else value)
    assert all(s["step"] == 1 for s in state["opt"]["state"].values())
    assert np.isfinite(scope["loss"].item())
    assert (tmp_path / "ckpt.npz").exists()
    assert (tmp_path / "runs" / "wgan-gp-ring8" / "checkpoint.npz").exists()


def test_readme_names_the_ci_test_command():
    text = open(README, encoding="utf-8").read()
    ci = open(os.path.join(os.path.dirname(README), ".ci", "run"), encoding="utf-8").read()
    command = 'python -m pip install -e ".[test]" && python -m pytest -q'
    assert command in text
    assert command in ci


# ---------------------------------------------------------------- .ci/run's exit status
_FAKE_PYTHON = """#!/bin/sh
# Stands in for the venv's python: answers the commands .ci/run issues.
case "$*" in
  "-m pip install --upgrade pip") exit 0 ;;
  "-m pip install -q torch==2.13.0") exit "$FAKE_TORCH_RC" ;;
  "-c import torch") exit 0 ;;
  "-m pip install -e .[test]") exit 0 ;;
  "-m pytest -q") exit "$FAKE_PYTEST_RC" ;;
esac
echo "unexpected: $*" >&2
exit 99
"""

_FAKE_PYTHON3 = """#!/bin/sh
# `python3 -m venv DIR`: a venv whose python is the stub above.
[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 98
mkdir -p "$3/bin"
cp "$FAKE_STUB" "$3/bin/python"
echo "export PATH=\\"$3/bin:\\$PATH\\"" > "$3/bin/activate"
"""


def _run_ci(tmp_path, torch_rc, pytest_rc):
    import stat
    import subprocess

    fake = tmp_path / "fakebin"
    fake.mkdir()
    for name, text in (("stub", _FAKE_PYTHON), ("python3", _FAKE_PYTHON3)):
        (fake / name).write_text(text)
        (fake / name).chmod(stat.S_IRWXU)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", FAKE_STUB=str(fake / "stub"),
               FAKE_TORCH_RC=str(torch_rc), FAKE_PYTEST_RC=str(pytest_rc),
               TINYGAN_CI_VENV=str(tmp_path / "venv"))
    script = os.path.join(os.path.dirname(README), ".ci", "run")
    return subprocess.run(["bash", script], env=env, capture_output=True, text=True, timeout=60)


def test_ci_fails_when_torch_cannot_be_installed(tmp_path):
    res = _run_ci(tmp_path, torch_rc=1, pytest_rc=0)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "torch==2.13.0 could not be installed" in res.stderr


@pytest.mark.parametrize("pytest_rc", [0, 1, 5])
def test_ci_returns_the_test_commands_status(tmp_path, pytest_rc):
    res = _run_ci(tmp_path, torch_rc=0, pytest_rc=pytest_rc)
    assert res.returncode == pytest_rc, res.stdout + res.stderr
