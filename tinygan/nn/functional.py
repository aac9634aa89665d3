"""Functional forms of every layer and loss (``import tinygan.nn.functional as F``)."""
from ..ops import *  # noqa: F401,F403
from ..ops import (binary_cross_entropy, binary_cross_entropy_with_logits, leaky_relu,  # noqa
                   log_sigmoid, mse_loss, relu, sigmoid, softplus, tanh)
from .linear import linear  # noqa: F401

try:
    from ..ops.conv import conv2d, conv_transpose2d  # noqa: F401
except ImportError:  # pragma: no cover
    pass
try:
    from ..ops.batchnorm import batch_norm  # noqa: F401
except ImportError:  # pragma: no cover
    pass
from ..ops.loss import cross_entropy, log_softmax  # noqa: F401,E402
