"""Optimisers with PyTorch's update formulas: ``SGD``, ``Adam``, ``RMSprop``."""
from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop"]
