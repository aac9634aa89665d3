"""Argument checks shared by every layer (it imports nothing of tinygan, so anything may use it).

Each caller raises its own error type with its own prefix (``Conv2d: ...``,
``--batch-size ...``, ``Adam: ...``); only the rule lives here, so the layers,
the models, the configuration and the command line accept exactly the same values.
"""
from __future__ import annotations

__all__ = ["is_positive_int", "positive_int", "is_unit_fraction", "betas_problem"]


def is_positive_int(value) -> bool:
    """True for an integer > 0 (an integral float such as ``3.0`` counts); False for bools."""
    if isinstance(value, bool):
        return False
    try:
        return int(value) == value and value > 0
    except (TypeError, ValueError, OverflowError):
        return False


def positive_int(value, name: str, who: str, error=ValueError) -> int:
    """``value`` as an int, or ``error("{who}: {name} must be a positive integer, got ...")``."""
    if not is_positive_int(value):
        raise error(f"{who}: {name} must be a positive integer, got {value!r}")
    return int(value)


def is_unit_fraction(value) -> bool:
    """True for a number in [0, 1) (a decay, a dropout probability, a smoothing α); False
    for bools, non-numbers, NaN and inf."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and 0 <= value < 1


def betas_problem(betas):
    """What is wrong with Adam's ``betas`` (a pair in [0, 1)): ``"name=value (rule)"``, or None."""
    try:
        pair = tuple(betas)
    except TypeError:
        pair = None
    if pair is None or len(pair) != 2:
        return f"betas={betas!r} (must be a pair (beta1, beta2))"
    for i, b in enumerate(pair):
        if not is_unit_fraction(b):
            return f"beta{i + 1}={b!r} (must be in [0, 1))"
    return None
