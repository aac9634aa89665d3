"""What a config builds: the two networks, their optimisers, and the loop that trains them."""
from __future__ import annotations

from .averaging import GeneratorEMA, after_each_step
from .config import TrainConfig
from .loops import LOOPS, linear_decay
from .models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                     MLPImageDiscriminator, MLPImageGenerator)

__all__ = ["build_models", "build_optimizer", "build_ema", "loop_options", "make_loop"]


def build_models(cfg: TrainConfig, data_shape: tuple):
    """(G, D) for the config: MLPs on vectors / flattened images, or the DCGAN pair."""
    if not cfg.is_image:
        (dim,) = data_shape
        return (MLPGenerator(cfg.z_dim, dim, cfg.hidden, "relu"),
                MLPDiscriminator(dim, cfg.hidden, cfg.d_activation or "relu", cfg.d_dropout))
    if cfg.arch == "mlp":
        return (MLPImageGenerator(cfg.z_dim, data_shape, cfg.hidden, "relu"),
                MLPImageDiscriminator(data_shape, cfg.hidden, cfg.d_activation or "leaky_relu",
                                      cfg.d_dropout))
    channels, size, _ = data_shape
    # WGAN-GP's critic has no batch norm (Gulrajani et al. §4); WGAN kept DCGAN's.
    return (DCGANGenerator(cfg.z_dim, channels, size, cfg.ngf, cfg.g_first_layer),
            DCGANDiscriminator(channels, size, cfg.ndf, batch_norm=cfg.model != "wgan-gp",
                               dropout=cfg.d_dropout))


def build_optimizer(cfg: TrainConfig, params, lr: float = None):
    """The config's optimiser (SGD with momentum, Adam, or RMSProp) over ``params``, at
    learning rate ``lr`` (default ``cfg.lr``; D's optimiser takes ``cfg.lr_of_d``)."""
    from .. import optim
    lr = cfg.lr if lr is None else lr
    if cfg.optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=cfg.momentum)
    if cfg.optimizer == "adam":
        return optim.Adam(params, lr=lr, betas=cfg.betas)
    return optim.RMSprop(params, lr=lr, alpha=cfg.alpha)


def build_ema(cfg: TrainConfig, G):
    """The moving average of G's weights (``--ema``), or None when it is off."""
    return GeneratorEMA(G, cfg.ema) if cfg.ema else None


def loop_options(cfg: TrainConfig) -> dict:
    """The hyper-parameters the model's loop takes, read from the config."""
    if cfg.model in ("gan", "dcgan"):
        sigma = None
        if cfg.instance_noise:
            sigma = linear_decay(cfg.instance_noise, cfg.noise_anneal_steps or cfg.steps)
        return dict(k=cfg.k, saturating=cfg.saturating, sigma=sigma, real_label=cfg.real_label)
    if cfg.model == "wgan":
        return dict(n_critic=cfg.n_critic, clip=cfg.clip, warmup=cfg.critic_warmup)
    return dict(n_critic=cfg.n_critic, gp_lambda=cfg.gp_lambda)


def make_loop(cfg: TrainConfig, G, D, opt_g, opt_d, real, noise, start: int = 0, loop=None,
              ema=None):
    """The model's loop (or ``loop``, a function of the same signature) from step ``start``
    to ``cfg.steps``: an iterator of one record per generator iteration.  With
    ``--lr-decay linear`` both learning rates decay to 0 over the run, and ``ema`` (from
    :func:`build_ema`) follows G after every step; the loop itself stays the paper's."""
    loop = loop or LOOPS[cfg.model]
    records = loop(G, D, opt_g, opt_d, real, noise, steps=cfg.steps, start=start,
                   **loop_options(cfg))
    decay = [(opt_g, cfg.lr), (opt_d, cfg.lr_of_d)] if cfg.lr_decay == "linear" else []
    if not decay and ema is None:
        return records
    return after_each_step(records, start=start, steps=cfg.lr_decay_steps or cfg.steps,
                           optimizers=decay, ema=ema, G=G)
