"""Differentiable operations on Tensors (the functional API).

Each op is a :class:`~tinygan.autograd.Function` with its forward (on arrays)
and backward (on Tensors) side by side, in the module named after what it is:

=====================  ==================================================
``elementwise.py``     + − × ÷, pow, exp, log, sqrt, abs, clip, maximum, sign, lerp
``reduce.py``          sum, mean, var, max, min, logsumexp, cumsum
``shape.py``           reshape, transpose, indexing, concatenate, stack, split, pad,
                       pixel_shuffle
``linalg.py``          matmul (mm, bmm)
``linear.py``          linear (x Wᵀ + b as one op: the Linear layer)
``activation.py``      relu, leaky_relu, prelu, tanh, sigmoid, softplus, elu, silu
``loss.py``            BCE (with logits), MSE, L1, cross-entropy, NLL, one_hot
``conv.py``            conv2d, conv_transpose2d (im2col + GEMM)
``batchnorm.py``       batch_norm
``normalization.py``   layer_norm, instance_norm, group_norm (per sample, composed)
``pooling.py``         avg_pool2d, max_pool2d, adaptive_avg_pool2d (composed)
``dropout.py``         dropout, dropout2d (training-mode masks)
``embedding.py``       embedding (a row lookup, for conditional GANs)
``resample.py``        interpolate / upsample (nearest, bilinear)
``methods.py``         the Tensor method table (PyTorch-style methods, in place ops)
=====================  ==================================================

Importing this package binds the operators and methods to :class:`Tensor`
(:func:`tinygan.ops.methods.install`), so that ``autograd`` imports nothing from here.
"""
from ..autograd import Tensor
from .activation import elu, leaky_relu, log_sigmoid, prelu, relu, sigmoid, silu, softplus, tanh
from .elementwise import (abs, add, cast, clip, div, eq, exp, ge, gt, le, lerp, log, lt,
                          masked_fill, maximum, minimum, mul, ne, neg, pow, rsqrt, sign, sqrt,
                          sub, where)
from .linalg import bmm, matmul, mm
from .linear import linear
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                   l1_loss, log_softmax, mse_loss, nll_loss, one_hot, softmax)
from .reduce import cumsum, logsumexp, max, mean, min, sum, var
from .shape import (broadcast_to, chunk, concatenate, flatten, getitem, pad, pixel_shuffle,
                    pixel_unshuffle, reshape, split, squeeze, stack, sum_to, swapaxes, transpose,
                    unsqueeze)

from .conv import conv2d, conv2d_weight, conv_transpose2d
from .batchnorm import batch_norm
from .normalization import group_norm, instance_norm, layer_norm
from .pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from .dropout import dropout, dropout2d
from .embedding import embedding
from .resample import interpolate, upsample
from .methods import argmax, argmin, clamp, flip, gather, norm, normalize, sort, to_device, topk
from . import methods as _methods

_methods.install()
