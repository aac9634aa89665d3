"""What a config builds: the two networks, their optimisers, and the loop that trains them."""
from __future__ import annotations

from .config import TrainConfig
from .loops import LOOPS, linear_decay
from .models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                     MLPImageDiscriminator, MLPImageGenerator)

__all__ = ["build_models", "build_optimizer", "loop_options", "make_loop"]


def build_models(cfg: TrainConfig, data_shape: tuple):
    """(G, D) for the config: MLPs on vectors / flattened images, or the DCGAN pair."""
    if not cfg.is_image:
        (dim,) = data_shape
        return (MLPGenerator(cfg.z_dim, dim, cfg.hidden, "relu"),
                MLPDiscriminator(dim, cfg.hidden, "relu"))
    if cfg.arch == "mlp":
        return (MLPImageGenerator(cfg.z_dim, data_shape, cfg.hidden, "relu"),
                MLPImageDiscriminator(data_shape, cfg.hidden, "leaky_relu"))
    channels, size, _ = data_shape
    # WGAN-GP's critic has no batch norm (Gulrajani et al. §4); WGAN kept DCGAN's.
    return (DCGANGenerator(cfg.z_dim, channels, size, cfg.ngf),
            DCGANDiscriminator(channels, size, cfg.ndf, batch_norm=cfg.model != "wgan-gp"))


def build_optimizer(cfg: TrainConfig, params):
    """The config's optimiser (SGD with momentum, Adam, or RMSProp) over ``params``."""
    from .. import optim
    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum)
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr=cfg.lr, betas=cfg.betas)
    return optim.RMSprop(params, lr=cfg.lr, alpha=cfg.alpha)


def loop_options(cfg: TrainConfig) -> dict:
    """The hyper-parameters the model's loop takes, read from the config."""
    if cfg.model in ("gan", "dcgan"):
        sigma = None
        if cfg.instance_noise:
            sigma = linear_decay(cfg.instance_noise, cfg.noise_anneal_steps or cfg.steps)
        return dict(k=cfg.k, saturating=cfg.saturating, sigma=sigma)
    if cfg.model == "wgan":
        return dict(n_critic=cfg.n_critic, clip=cfg.clip, warmup=cfg.critic_warmup)
    return dict(n_critic=cfg.n_critic, gp_lambda=cfg.gp_lambda)


def make_loop(cfg: TrainConfig, G, D, opt_g, opt_d, real, noise, start: int = 0, loop=None):
    """The model's loop (or ``loop``, a function of the same signature) from step ``start``
    to ``cfg.steps``: an iterator of one record per generator iteration."""
    loop = loop or LOOPS[cfg.model]
    return loop(G, D, opt_g, opt_d, real, noise, steps=cfg.steps, start=start,
                **loop_options(cfg))
