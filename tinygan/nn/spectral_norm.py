"""Spectral normalisation of a layer's weight, as ``torch.nn.utils.spectral_norm``.

W_SN = W / σ(W) (Miyato et al. 2018, "Spectral Normalization for Generative Adversarial
Networks", eq. 8), σ(W) the largest singular value of W seen as a matrix (out × rest, or
in × rest for a transposed convolution), estimated by power iteration with a vector u
kept from call to call (their Algorithm 1): in training mode every forward does
``n_power_iterations`` of

    v ← Wᵀu / ‖Wᵀu‖,   u ← Wv / ‖Wv‖

and σ = uᵀWv, differentiated through W only (u and v are constants of the step, as in the
paper and PyTorch).  In eval mode u and v stay as they are.

The layer's parameter ``weight`` becomes ``weight_orig`` (what the optimiser updates),
``weight_u`` and ``weight_v`` are buffers (saved in ``state_dict``, PyTorch's names), and
``weight`` is recomputed by a forward pre-hook before every call.  A spectrally normalised
critic is another method than weight clipping or the gradient penalty (the family's
defaults never use it): it is here for users who build their own.
"""
from __future__ import annotations

from .. import backend as B
from ..autograd import Tensor, no_grad
from ..ops.methods import normalize
from .module import Module, Parameter

__all__ = ["spectral_norm", "remove_spectral_norm"]


class SpectralNorm:
    """The forward pre-hook of one spectrally normalised parameter."""

    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float):
        self.name, self.n_power_iterations, self.dim, self.eps = (
            name, n_power_iterations, dim, eps)

    def matrix(self, weight: Tensor) -> Tensor:
        """The weight as a matrix: dim ``dim`` first, the rest flattened."""
        if self.dim != 0:
            order = [self.dim] + [d for d in range(weight.ndim) if d != self.dim]
            weight = weight.permute(*order)
        return weight.reshape(weight.shape[0], -1)

    def compute(self, module: Module, power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = module._buffers[self.name + "_u"], module._buffers[self.name + "_v"]
        mat = self.matrix(weight)
        if power_iteration and self.n_power_iterations > 0:
            with no_grad():
                fixed = mat.detach()
                for _ in range(self.n_power_iterations):
                    v.data[...] = normalize(fixed.t() @ u, dim=0, eps=self.eps).data
                    u.data[...] = normalize(fixed @ v, dim=0, eps=self.eps).data
            # copies: the next forward (D on the fake batch, before this backward) updates
            # the buffers again, and this step's σ must keep its own u and v
            u, v = u.clone(), v.clone()
        sigma = u @ (mat @ v)  # uᵀWv
        return weight / sigma

    def __call__(self, module: Module, inputs):
        object.__setattr__(module, self.name, self.compute(module, module.training))


def _hook_of(module: Module, name: str):
    for key, hook in (module._forward_pre_hooks or {}).items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            return key, hook
    return None, None


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int = None) -> Module:
    """Spectrally normalise ``module``'s parameter ``name`` (module docstring); returns the
    module.  ``dim``: the dim of the output features, 0 (1 for ``ConvTranspose2d``, whose
    weight is (in, out, kH, kW)), as PyTorch."""
    who = "spectral_norm"
    if not isinstance(module, Module):
        raise TypeError(f"{who}: expected a Module, got {type(module).__name__}")
    if _hook_of(module, name)[1] is not None:
        raise RuntimeError(f"{who}: {type(module).__name__}.{name} is spectrally normalised "
                           f"already")
    weight = module._parameters.get(name)
    if not isinstance(weight, Parameter):
        raise ValueError(f"{who}: {type(module).__name__} has no parameter {name!r}")
    if isinstance(n_power_iterations, bool) or not isinstance(n_power_iterations, int) \
            or n_power_iterations < 0:
        raise ValueError(f"{who}: n_power_iterations must be an integer >= 0, got "
                         f"{n_power_iterations!r}")
    if not eps > 0:
        raise ValueError(f"{who}: eps must be positive, got {eps!r}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    if not -weight.ndim <= dim < weight.ndim:
        raise ValueError(f"{who}: dim {dim} is out of range for the weight of shape "
                         f"{weight.shape}")
    hook = SpectralNorm(name, n_power_iterations, dim % weight.ndim, float(eps))
    with no_grad():
        h, w = hook.matrix(weight).shape
        xp = B.array_module(weight.data)  # drawn from the global stream, on the weight's device
        u, v = (normalize(Tensor(xp.asarray(B.to_numpy(B.randn((n,), dtype=weight.dtype))),
                                 dtype=weight.dtype), dim=0, eps=eps) for n in (h, w))
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    object.__setattr__(module, name, weight.detach())  # until the first forward
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``name`` becomes a plain parameter again, holding the
    normalised weight (W / σ with the current u and v); returns the module."""
    key, hook = _hook_of(module, name)
    if hook is None:
        raise ValueError(f"remove_spectral_norm: {type(module).__name__}.{name} is not "
                         f"spectrally normalised")
    with no_grad():
        weight = hook.compute(module, power_iteration=False)
    del module._forward_pre_hooks[key]
    object.__delattr__(module, name)
    for suffix in ("_orig", "_u", "_v"):
        delattr(module, name + suffix)
    module.register_parameter(name, Parameter(weight.data.copy()))
    return module
