"""The GAN family: objectives (``losses``), models, and training loops."""
from .losses import (critic_loss, discriminator_loss, generator_loss, gradient_penalty,  # noqa
                     interpolates, value_function, wasserstein_generator_loss)
from .config import ConfigError, TrainConfig, make_config  # noqa: F401,E402
from .models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,  # noqa: F401,E402
                     MLPGenerator, MLPImageDiscriminator, MLPImageGenerator)
from .train import Trainer, TrainingDiverged, train  # noqa: F401,E402
