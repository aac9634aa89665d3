"""Layers (``tinygan.nn``) — PyTorch-style Modules; functional forms in ``tinygan.nn.functional``."""
from . import functional, init  # noqa: F401
from . import utils  # noqa: F401
from .activation import (ELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, PReLU, ReLU, Sigmoid,
                         SiLU, Softmax, Softplus, Tanh)
from .container import Identity, ModuleDict, ModuleList
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import Module, Parameter, Sequential
from .shape import (ConstantPad2d, Flatten, PixelShuffle, PixelUnshuffle, ReflectionPad2d,
                    ReplicationPad2d, Reshape, Unflatten, ZeroPad2d)

from .batchnorm import BatchNorm1d, BatchNorm2d
from .normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .conv import Conv2d, ConvTranspose2d
from .dropout import Dropout, Dropout2d
from .embedding import Embedding
from .upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
