"""docs/math.md names functions as `package.module.function`; each must exist."""
import importlib
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "math.md")


def _resolve(dotted: str):
    """Import the longest importable module prefix, then getattr the rest."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)  # AttributeError: the doc names something missing
        return obj
    raise ImportError(dotted)


def test_every_function_named_in_math_doc_exists():
    text = open(DOC, encoding="utf-8").read()
    names = sorted(set(re.findall(r"`(tinygan(?:\.\w+)+)`", text)))
    assert len(names) > 25, names  # the walkthrough really names the code
    missing = []
    for n in names:
        try:
            _resolve(n)
        except (ImportError, AttributeError):
            missing.append(n)
    assert not missing, f"docs/math.md names missing objects: {missing}"


def test_every_demo_named_in_math_doc_exists():
    text = open(DOC, encoding="utf-8").read()
    demos = set(re.findall(r"`(demos/0\d_\w+\.py)`", text))
    assert len(demos) == 7, demos
    for d in demos:
        assert os.path.isfile(os.path.join(ROOT, d)), d
