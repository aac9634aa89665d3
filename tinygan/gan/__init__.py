"""The GAN family: objectives (``losses``), models, and training loops."""
from .losses import (critic_loss, discriminator_loss, generator_loss, gradient_penalty,  # noqa
                     interpolates, value_function, wasserstein_generator_loss)
