"""Layers (``tinygan.nn``) — PyTorch-style Modules; functional forms in ``tinygan.nn.functional``."""
from . import functional, init  # noqa: F401
from .activation import LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .linear import Linear
from .module import Module, Parameter, Sequential
from .shape import Flatten, Reshape, Unflatten

from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import Conv2d, ConvTranspose2d
