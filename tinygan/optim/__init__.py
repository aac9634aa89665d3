"""Optimisers with PyTorch's update formulas: ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``; learning-rate
schedules in ``lr_scheduler``; ``swa_utils.update_bn`` for averaged weights."""
from . import lr_scheduler, swa_utils  # noqa: F401
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop"]
