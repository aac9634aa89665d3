"""Optimisers with PyTorch's update formulas: ``SGD``, ``Adam``, ``RMSprop``; learning-rate
schedules in ``lr_scheduler``."""
from . import lr_scheduler  # noqa: F401
from .adam import Adam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop"]
