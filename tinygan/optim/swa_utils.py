"""``update_bn``: measure a model's batch-norm statistics afresh on given inputs, as
PyTorch's ``torch.optim.swa_utils.update_bn`` does.

An average of weights (stochastic weight averaging; the moving average of a GAN's generator,
:class:`tinygan.gan.averaging.GeneratorEMA`) is a network that was never run during
training, so the running statistics of a batch-norm layer kept by the trained model describe
*that* model's activations, not the average's.  Brock et al. (2019, BigGAN, appendix
"BatchNorm statistics and sampling") sample their averaged generator with such "standing
statistics"; ``benchmarks/QUALITY.md`` ("The average's batch-norm statistics") measures
what copied statistics cost the DCGAN on digits.
"""
from __future__ import annotations

from ..autograd import Tensor, no_grad
from ..nn.batchnorm import _BatchNorm

__all__ = ["update_bn"]


def update_bn(loader, model) -> None:
    """Reset the running mean and variance of every batch-norm layer of ``model`` that keeps
    them, then run ``model`` in training mode on each batch of ``loader`` (arrays or Tensors;
    a tuple or list yields its first element, as a ``(inputs, targets)`` loader would) so
    that they become the cumulative average over all of them (momentum ``None``: each batch
    counts equally).  The momenta and the model's mode are restored; gradients are not
    recorded.  A model without such layers is left untouched and ``loader`` is not read."""
    layers = [m for m in model.modules()
              if isinstance(m, _BatchNorm) and m.track_running_stats]
    if not layers:
        return
    momenta = [m.momentum for m in layers]
    was_training = model.training
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (tuple, list)):
                    batch = batch[0]
                model(batch if isinstance(batch, Tensor) else Tensor(batch))
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        model.train(was_training)
