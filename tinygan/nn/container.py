"""``Identity``, ``ModuleList`` and ``ModuleDict`` (``Sequential`` lives in :mod:`.module`)."""
from __future__ import annotations

from collections import OrderedDict

from .module import Module

__all__ = ["Identity", "ModuleList", "ModuleDict"]


class Identity(Module):
    """Returns its input (arguments are accepted and ignored, as PyTorch's)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


def _check_module(m, who, key):
    if not isinstance(m, Module):
        raise TypeError(f"{who}: item {key!r} is a {type(m).__name__}, not a Module")
    return m


class ModuleList(Module):
    """A list of Modules whose parameters are registered (named "0", "1", ...)."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module):
        self._modules[str(len(self))] = _check_module(module, "ModuleList", len(self))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        items = list(self._modules.values())
        items.insert(index, _check_module(module, "ModuleList", index))
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __getitem__(self, i):
        items = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(items[i])
        return items[i]

    def __setitem__(self, i, module):
        key = list(self._modules)[i]
        self._modules[key] = _check_module(module, "ModuleList", i)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it in yours")


class ModuleDict(Module):
    """A dict of Modules whose parameters are registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def update(self, modules):
        items = modules.items() if isinstance(modules, (dict, OrderedDict, ModuleDict)) \
            else modules
        for key, m in items:
            self[key] = m

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self._modules[str(key)] = _check_module(module, "ModuleDict", key)

    def __delitem__(self, key):
        del self._modules[key]

    def __contains__(self, key):
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); index it in yours")
