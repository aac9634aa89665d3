"""The one dtype rule every parametrised layer applies to its input.

As in PyTorch, a layer does not convert its input: a float64 batch into a
float32 ``Linear`` is an error, not a silent promotion of every later
activation (and gradient) to float64, nor a silent rounding to float32.
"""
from __future__ import annotations


def check_input_dtype(layer: str, x, param) -> None:
    """Raise a one-line TypeError if ``x``'s dtype is not ``param``'s (the layer's dtype)."""
    if param is not None and x.dtype != param.dtype:
        raise TypeError(f"{layer}: input has dtype {x.dtype} but the layer's parameters are "
                        f"{param.dtype}; cast the input with x.astype('{param.dtype}') or create "
                        f"the layer after tinygan.set_default_dtype('{x.dtype}')")
