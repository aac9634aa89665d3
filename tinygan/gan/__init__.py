"""The GAN family: objectives (``losses``), models, one-step functions (``steps``), the
paper-shaped loops (``loops``) and the machinery of a training run (``train``, ``run``)."""
from .losses import (critic_loss, discriminator_loss, generator_loss, gradient_penalty,  # noqa
                     interpolates, value_function, wasserstein_generator_loss)
from .config import ConfigError, TrainConfig, make_config  # noqa: F401,E402
from .models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,  # noqa: F401,E402
                     MLPGenerator, MLPImageDiscriminator, MLPImageGenerator)
from .loops import gan_loop, wgan_gp_loop, wgan_loop  # noqa: F401,E402
from .run import Run, TrainingDiverged  # noqa: F401,E402
from .train import train  # noqa: F401,E402
