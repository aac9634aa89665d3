"""Test utilities shipped with the package: gradient checks and the CuPy stand-in backend."""
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
