"""Functional forms of every layer and loss (``import tinygan.nn.functional as F``):
the ops of :mod:`tinygan.ops` (``linear`` among them), with PyTorch's ``inplace=`` accepted by the
activations (always computed out of place, see :mod:`tinygan.nn.activation`)."""
from ..ops import *  # noqa: F401,F403  (relu, conv2d, batch_norm, the losses, ...)
from ..ops import activation as _act


def relu(x, inplace: bool = False):
    return _act.relu(x)


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False):
    return _act.leaky_relu(x, negative_slope)
