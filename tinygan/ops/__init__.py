"""Differentiable operations on Tensors (the functional API).

Each op is a :class:`~tinygan.autograd.Function` with its forward (on arrays)
and backward (on Tensors) side by side, in the module named after what it is:

=====================  ==================================================
``elementwise.py``     + − × ÷, pow, exp, log, sqrt, abs, clip, maximum
``reduce.py``          sum, mean, var, max, min
``shape.py``           reshape, transpose, indexing, concatenate, stack
``linalg.py``          matmul
``activation.py``      relu, leaky_relu, tanh, sigmoid, softplus
``loss.py``            BCE (with logits), MSE
``conv.py``            conv2d, conv_transpose2d (im2col + GEMM)
``batchnorm.py``       batch_norm
=====================  ==================================================

Importing this package also attaches the operators to :class:`Tensor`.
"""
from ..autograd import Tensor
from .activation import leaky_relu, log_sigmoid, relu, sigmoid, softplus, tanh
from .elementwise import (abs, add, cast, clip, div, eq, exp, ge, gt, le, log, lt, maximum,
                          minimum, mul, ne, neg, pow, sqrt, sub, where)
from .linalg import matmul
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                   log_softmax, mse_loss)
from .reduce import max, mean, min, sum, var
from .shape import (broadcast_to, concatenate, flatten, getitem, reshape, squeeze, stack,
                    sum_to, swapaxes, transpose, unsqueeze)

from .conv import conv2d, conv2d_weight, conv_transpose2d
from .batchnorm import batch_norm
from ._util import as_tensor as _as_tensor


def _swap(fn):
    return lambda self, other: fn(other, self)


def _install_operators():
    """Attach operators and methods to Tensor (kept here so autograd imports nothing above it)."""
    T = Tensor
    T.__add__, T.__radd__ = add, _swap(add)
    T.__sub__, T.__rsub__ = sub, _swap(sub)
    T.__mul__, T.__rmul__ = mul, _swap(mul)
    T.__truediv__, T.__rtruediv__ = div, _swap(div)
    T.__pow__ = pow
    T.__rpow__ = lambda self, base: exp(log(_as_tensor(base, self)) * self)
    T.__matmul__, T.__rmatmul__ = matmul, _swap(matmul)
    T.__neg__ = neg
    T.__abs__ = abs
    T.__getitem__ = getitem
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = lt, le, gt, ge
    T.__eq__, T.__ne__ = eq, ne
    T.sum, T.mean, T.var, T.max, T.min = sum, mean, var, max, min
    T.reshape, T.transpose, T.flatten = reshape, transpose, flatten
    T.squeeze, T.unsqueeze = squeeze, unsqueeze
    T.T = property(lambda self: transpose(self))
    T.exp, T.log, T.sqrt, T.abs, T.clip = exp, log, sqrt, abs, clip
    T.relu, T.tanh, T.sigmoid = relu, tanh, sigmoid
    T.matmul = matmul


_install_operators()
