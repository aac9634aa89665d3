"""dtype names and conversion, shared by the engine (host metadata only, no arrays).

Every backend uses NumPy's dtype objects (CuPy does too), so this one module may
name numpy for them, like :mod:`tinygan.backend`; engine code (ops, nn) asks here
instead of importing numpy.  ``dtype_of`` accepts what PyTorch code passes:
a dtype, its name ("float32", "float", "long"), or a legacy tensor type
(``tinygan.FloatTensor``).
"""
from __future__ import annotations

from numpy import bool_, dtype, float32, float64, generic, int32, int64, integer, uint8

__all__ = ["dtype_of", "dtype", "bool_", "float32", "float64", "int32", "int64", "uint8",
           "integer", "generic"]

_NAMES = {"float": float32, "float32": float32, "float64": float64, "double": float64,
          "long": int64, "int64": int64, "int": int32, "int32": int32, "bool": bool_,
          "uint8": uint8}


def dtype_of(value, who: str = "dtype"):
    """A NumPy dtype from a dtype, a name, or a tensor-type factory; None stays None."""
    if value is None:
        return None
    value = getattr(value, "tensor_dtype", value)
    if isinstance(value, str) and value in _NAMES:
        return dtype(_NAMES[value])
    try:
        return dtype(value)
    except TypeError:
        raise TypeError(f"{who}: {value!r} is not a dtype") from None
