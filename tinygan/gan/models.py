"""Generators and discriminators/critics, built only from :mod:`tinygan.nn` layers.

* MLPs for vectors (the 2-D/1-D toy problems; default 3 hidden layers of 512
  ReLU, the common toy setting of VEEGAN / PacGAN / WGAN-GP's ``gan_toy.py``),
  and for flattened images (Goodfellow et al. 2014's MNIST setting: an MLP on
  784-vectors, reshaped to (N, C, H, W) at the generator's output).
* The DCGAN pair (Radford et al. 2015, MATH.md §2) for 28×28, 32×32 and 64×64
  images, following all five architecture rules; ``batch_norm=False`` gives
  the critic WGAN-GP needs (Gulrajani et al. §4: no batch norm in the critic,
  because the penalty is per sample and batch norm couples the samples).

Every discriminator returns a logit / critic score of shape (N, 1): no
sigmoid, the losses in :mod:`tinygan.gan.losses` work from logits.
"""
from __future__ import annotations

from .. import nn
from .._validate import is_unit_fraction
from .._validate import positive_int as _positive_int
from ..nn import init

__all__ = ["MLPGenerator", "MLPDiscriminator", "MLPImageGenerator", "MLPImageDiscriminator",
           "DCGANGenerator", "DCGANDiscriminator", "IMAGE_SIZES"]

IMAGE_SIZES = (28, 32, 64)


def _activation(name: str, who: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)  # DCGAN rule 5's slope, also used for MLP critics
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"{who}: unknown activation {name!r}; choose relu, leaky_relu or tanh")


def _hidden(hidden, who: str) -> tuple:
    hidden = tuple(hidden)
    for h in hidden:
        _positive_int(h, "every hidden width", who)
    return tuple(int(h) for h in hidden)


def _dropout_p(p, who: str) -> float:
    """A discriminator's dropout probability: a number in [0, 1) (0: none)."""
    if not is_unit_fraction(p):
        raise ValueError(f"{who}: dropout must be a number in [0, 1) (0: none), got {p!r}")
    return float(p)


def _mlp(in_dim, hidden, out_dim, activation, who, dropout: float = 0.0) -> list:
    layers, width = [], in_dim
    for h in hidden:
        layers += [nn.Linear(width, h), _activation(activation, who)]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_dim))
    return layers


class MLPGenerator(nn.Sequential):
    """G(z): z (N, z_dim) → x (N, out_dim) through ``hidden`` fully connected layers.

    ``out_activation=None`` leaves the output linear (toy data lives on all of
    R^d); ``'tanh'`` bounds it to [−1, 1] (images scaled to [−1, 1]).
    """

    def __init__(self, z_dim: int, out_dim: int, hidden=(512, 512, 512),
                 activation: str = "relu", out_activation=None):
        who = "MLPGenerator"
        z_dim, out_dim = _positive_int(z_dim, "z_dim", who), _positive_int(out_dim, "out_dim", who)
        layers = _mlp(z_dim, _hidden(hidden, who), out_dim, activation, who)
        if out_activation is not None:
            layers.append(_activation(out_activation, who))
        super().__init__(*layers)
        self.z_dim, self.out_dim = z_dim, out_dim

    def noise_shape(self, n: int) -> tuple:
        return (n, self.z_dim)


class MLPDiscriminator(nn.Sequential):
    """D(x) / f(x): x (N, in_dim) → one logit or critic score per sample, shape (N, 1).

    ``dropout`` > 0 puts a Dropout(p) after every hidden activation, as Goodfellow et al.
    (2014, §5) trained their discriminator."""

    def __init__(self, in_dim: int, hidden=(512, 512, 512), activation: str = "relu",
                 dropout: float = 0.0):
        who = "MLPDiscriminator"
        in_dim = _positive_int(in_dim, "in_dim", who)
        dropout = _dropout_p(dropout, who)
        super().__init__(*_mlp(in_dim, _hidden(hidden, who), 1, activation, who, dropout))
        self.in_dim = in_dim


def _image_shape(img_shape, who) -> tuple:
    img_shape = tuple(img_shape)
    if len(img_shape) != 3:
        raise ValueError(f"{who}: img_shape must be (C, H, W), got {img_shape!r}")
    for s in img_shape:
        _positive_int(s, "every img_shape entry", who)
    return tuple(int(s) for s in img_shape)


class MLPImageGenerator(nn.Sequential):
    """Goodfellow et al.'s MNIST generator: an MLP on z, Tanh output, reshaped to (N, C, H, W)."""

    def __init__(self, z_dim: int, img_shape=(1, 28, 28), hidden=(1200, 1200),
                 activation: str = "relu"):
        who = "MLPImageGenerator"
        img_shape = _image_shape(img_shape, who)
        out_dim = img_shape[0] * img_shape[1] * img_shape[2]
        mlp = MLPGenerator(z_dim, out_dim, hidden, activation, out_activation="tanh")
        super().__init__(mlp, nn.Unflatten(1, img_shape))
        self.z_dim, self.img_shape = int(z_dim), img_shape

    def noise_shape(self, n: int) -> tuple:
        return (n, self.z_dim)


class MLPImageDiscriminator(nn.Sequential):
    """An MLP discriminator on flattened images: (N, C, H, W) → (N, 1)."""

    def __init__(self, img_shape=(1, 28, 28), hidden=(1200, 1200),
                 activation: str = "leaky_relu", dropout: float = 0.0):
        who = "MLPImageDiscriminator"
        img_shape = _image_shape(img_shape, who)
        in_dim = img_shape[0] * img_shape[1] * img_shape[2]
        super().__init__(nn.Flatten(), MLPDiscriminator(in_dim, hidden, activation, dropout))
        self.img_shape = img_shape


# ---------------------------------------------------------------- DCGAN (MATH.md §2)
def _check_image_size(img_size, who):
    if img_size not in IMAGE_SIZES:
        raise ValueError(f"{who}: img_size must be one of {IMAGE_SIZES}, got {img_size!r}")


def _widths(img_size, base):
    """Channel widths from the smallest feature map outwards.

    28×28 (MNIST-style): 7×7 → 14×14 → 28×28, widths 2·base, base.
    32×32: 4 → 8 → 16 → 32, widths 4·base, 2·base, base.
    64×64: 4 → 8 → 16 → 32 → 64, widths 8·base, 4·base, 2·base, base (the paper's Fig. 1).
    """
    n = {28: 2, 32: 3, 64: 4}[img_size]
    return [base * 2 ** (n - 1 - i) for i in range(n)]


class DCGANGenerator(nn.Sequential):
    """DCGAN generator: z (N, z_dim, 1, 1) → image (N, C, H, W) in [−1, 1].

    Rules (MATH.md §2): (1) fractional-strided convolutions only — the first
    layer is a ConvTranspose2d from the 1×1 noise "image" to the first feature
    map (kernel 7 for 28×28, kernel 4 otherwise), so (3) there is no fully
    connected hidden layer; (2) batch norm after every layer but the output;
    (4) ReLU everywhere, Tanh at the output.  Then each stride-2, kernel-4,
    padding-1 transposed conv doubles H and W: (H−1)·2 − 2 + 4 = 2H.
    Weights ~ N(0, 0.02), batch-norm scale ~ N(1, 0.02) (paper §4).
    ``first_layer="linear"``: the first layer is instead a Linear projection of z to the
    first feature map, with BatchNorm1d, then reshaped (``--g-first-layer linear``).
    """

    def __init__(self, z_dim: int = 100, img_channels: int = 1, img_size: int = 28,
                 ngf: int = 64, first_layer: str = "conv"):
        who = "DCGANGenerator"
        _check_image_size(img_size, who)
        z_dim = _positive_int(z_dim, "z_dim", who)
        img_channels = _positive_int(img_channels, "img_channels", who)
        ngf = _positive_int(ngf, "ngf", who)
        widths = _widths(img_size, ngf)
        first_kernel = 7 if img_size == 28 else 4
        if first_layer == "conv":
            layers = [nn.ConvTranspose2d(z_dim, widths[0], first_kernel, 1, 0, bias=False),
                      nn.BatchNorm2d(widths[0]), nn.ReLU()]
        elif first_layer == "linear":
            # the projection as Radford et al. §3 describe it ("a matrix multiplication ...
            # reshaped into a 4-dimensional tensor"), batch-normalised per feature
            # (BatchNorm1d over the C·k·k outputs), as many PyTorch DCGAN codes for MNIST do
            feats = widths[0] * first_kernel * first_kernel
            layers = [nn.Flatten(), nn.Linear(z_dim, feats, bias=False), nn.BatchNorm1d(feats),
                      nn.ReLU(), nn.Unflatten(1, (widths[0], first_kernel, first_kernel))]
        else:
            raise ValueError(f"{who}: first_layer must be 'conv' or 'linear', got "
                             f"{first_layer!r}")
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False),
                       nn.BatchNorm2d(w_out), nn.ReLU()]
        layers += [nn.ConvTranspose2d(widths[-1], img_channels, 4, 2, 1, bias=False), nn.Tanh()]
        super().__init__(*layers)
        self.z_dim, self.img_channels, self.img_size = z_dim, img_channels, img_size
        self.first_layer = first_layer
        self.apply(init.dcgan_init_)

    def noise_shape(self, n: int) -> tuple:
        return (n, self.z_dim, 1, 1)

    def forward(self, z):
        if z.ndim == 2:  # accept (N, z_dim) noise as well as (N, z_dim, 1, 1)
            z = z.reshape(z.shape + (1, 1))
        if z.ndim != 4 or z.shape[1:] != (self.z_dim, 1, 1):
            raise ValueError(f"DCGANGenerator: expected noise of shape (N, {self.z_dim}, 1, 1) "
                             f"or (N, {self.z_dim}), got {z.shape}")
        return super().forward(z)


class DCGANDiscriminator(nn.Sequential):
    """DCGAN discriminator (or, with ``batch_norm=False``, the WGAN-GP critic).

    Rules: (1) strided convolutions (kernel 4, stride 2, padding 1 halve H, W)
    instead of pooling; (2) batch norm on every layer except the input layer;
    (3) no fully connected layer — a final convolution whose kernel covers the
    whole last feature map (7×7 or 4×4) gives one logit per image;
    (5) LeakyReLU(0.2) everywhere.  Output shape (N, 1).

    ``dropout`` > 0 puts a Dropout(p) after every LeakyReLU (not one of the five rules:
    Goodfellow et al. 2014, §5, trained their discriminator with dropout).
    """

    def __init__(self, img_channels: int = 1, img_size: int = 28, ndf: int = 64,
                 batch_norm: bool = True, dropout: float = 0.0):
        who = "DCGANDiscriminator"
        _check_image_size(img_size, who)
        img_channels = _positive_int(img_channels, "img_channels", who)
        ndf = _positive_int(ndf, "ndf", who)
        dropout = _dropout_p(dropout, who)
        widths = _widths(img_size, ndf)[::-1]  # base, 2·base, ... from the input inwards

        def activation():
            return [nn.LeakyReLU(0.2)] + ([nn.Dropout(dropout)] if dropout else [])

        layers = [nn.Conv2d(img_channels, widths[0], 4, 2, 1, bias=False), *activation()]
        for w_in, w_out in zip(widths[:-1], widths[1:]):
            layers.append(nn.Conv2d(w_in, w_out, 4, 2, 1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(w_out))
            layers += activation()
        last_kernel = 7 if img_size == 28 else 4
        layers += [nn.Conv2d(widths[-1], 1, last_kernel, 1, 0, bias=False), nn.Flatten()]
        super().__init__(*layers)
        self.img_channels, self.img_size, self.batch_norm = img_channels, img_size, batch_norm
        self.apply(init.dcgan_init_)

    def forward(self, x):
        expected = (self.img_channels, self.img_size, self.img_size)
        if x.ndim != 4 or x.shape[1:] != expected:
            raise ValueError(f"DCGANDiscriminator: expected images of shape (N, {expected[0]}, "
                             f"{expected[1]}, {expected[2]}), got {x.shape}")
        return super().forward(x)
