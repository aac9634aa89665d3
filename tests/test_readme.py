"""The README's API tour runs as written (with a shorter training run)."""
import os
import re

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
    assert x.grad is not None and x.grad.shape == (2, 2)
    assert (tmp_path / "ckpt.npz").exists()
    assert (tmp_path / "runs" / "wgan-gp-ring8" / "checkpoint.npz").exists()


def test_readme_names_the_ci_test_command():
    text = open(README, encoding="utf-8").read()
    ci = open(os.path.join(os.path.dirname(README), ".ci", "run"), encoding="utf-8").read()
    command = 'python -m pip install -e ".[test]" && python -m pytest -q'
    assert command in text
    assert command in ci
