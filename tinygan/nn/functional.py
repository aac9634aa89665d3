"""Functional forms of every layer and loss (``import tinygan.nn.functional as F``):
the ops of :mod:`tinygan.ops` plus ``linear``."""
from ..ops import *  # noqa: F401,F403  (relu, conv2d, batch_norm, the losses, ...)
from .linear import linear  # noqa: F401
