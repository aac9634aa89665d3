"""Test utilities shipped with the package: gradient checks and the CuPy stand-in backend.

Importing this package registers the stand-in as the backend ``"standin"``
(``tinygan.set_backend("standin")``; see :mod:`tinygan.testing.standin`).
"""
from . import standin  # noqa: F401  (registers the "standin" backend)
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
