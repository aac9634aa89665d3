"""``Parameter``, ``Module`` and ``Sequential`` — the PyTorch-style container API."""
from __future__ import annotations

from collections import OrderedDict

from .. import backend as B
from ..autograd import RemovableHandle, Tensor, add_hook
from ..device import device as _device, is_device_like
from ..dtypes import dtype_of


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (``requires_grad=True``)."""

    def __init__(self, data, requires_grad: bool = True):
        # as torch.nn.Parameter: the data's float dtype is kept (a float64 tensor stays
        # float64); lists and numbers take the default dtype
        if isinstance(data, Tensor):
            data = data.data
        dtype = data.dtype if B.is_array(data) and data.dtype.kind == "f" else None
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):]


class Module:
    """Base class of every layer and model.

    Assigning a :class:`Parameter` or a :class:`Module` to an attribute registers
    it; :meth:`register_buffer` registers non-trainable state (BatchNorm's
    running statistics), which ``state_dict`` saves but optimisers never see.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name!r}")
        for store in (self._parameters, self._buffers, self._modules):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value) -> None:
        """Register non-trainable state (a Tensor, or None) saved in ``state_dict``."""
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(value)
        for store in (self._parameters, self._modules):
            store.pop(name, None)
        self.__dict__.pop(name, None)
        self._buffers[name] = value

    def add_module(self, name: str, module) -> None:
        """Register ``module`` under ``name`` (names such as 'initial-100-512-convt' that are
        not identifiers are allowed, as in PyTorch)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} is a {type(module).__name__}, not a Module")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"add_module: module name must be a non-empty string without '.', "
                           f"got {name!r}")
        for store in (self._parameters, self._buffers):
            store.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def register_parameter(self, name: str, value) -> None:
        if value is None:
            self._parameters[name] = None
            self.__dict__.pop(name, None)
        else:
            setattr(self, name, value)

    # ------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    # id -> hook, made by the first registration (class defaults: a module without hooks,
    # the usual case, pays one attribute lookup per call)
    _forward_pre_hooks = None
    _forward_hooks = None

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                out = hook(self, args)
                if out is not None:  # new positional inputs (a tuple, or one input)
                    args = out if isinstance(out, tuple) else (out,)
        result = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                out = hook(self, args, result)
                if out is not None:  # replaces the output
                    result = out
        return result

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, inputs)`` before every ``forward``; a value it returns (a tuple, or one
        input) replaces the positional inputs.  As PyTorch's; ``handle.remove()`` undoes it."""
        if self._forward_pre_hooks is None:
            object.__setattr__(self, "_forward_pre_hooks", {})
        return add_hook(self._forward_pre_hooks, hook, "register_forward_pre_hook")

    def register_forward_hook(self, hook) -> RemovableHandle:
        """``hook(module, inputs, output)`` after every ``forward`` (e.g. to record a layer's
        activations); a value it returns replaces the output.  As PyTorch's."""
        if self._forward_hooks is None:
            object.__setattr__(self, "_forward_hooks", {})
        return add_hook(self._forward_hooks, hook, "register_forward_hook")

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = ""):
        """Depth-first pre-order, each module once (PyTorch's order, so parameter and
        state-dict order match a PyTorch model built the same way)."""
        stack, seen = [(prefix, self)], set()
        while stack:
            name, mod = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            yield name, mod
            children = [(f"{name}.{child_name}" if name else child_name, child)
                        for child_name, child in mod._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def children(self):
        return iter(m for m in self._modules.values() if m is not None)

    def named_children(self):
        return iter((n, m) for n, m in self._modules.items() if m is not None)

    def named_parameters(self, prefix: str = ""):
        seen = set()
        for mod_name, mod in self.named_modules(prefix):
            for name, p in mod._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, prefix: str = ""):
        for mod_name, mod in self.named_modules(prefix):
            for name, b in mod._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self):
        for _, b in self.named_buffers():
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ modes
    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._make(B.array_module(p.grad.data).zeros_like(p.grad.data),
                                      False, None)

    def requires_grad_(self, flag: bool = True):
        for p in self.parameters():
            p.requires_grad = bool(flag)
        return self

    # ------------------------------------------------------------ state
    def state_dict(self) -> "OrderedDict[str, object]":
        """Name → array (the live arrays of the active backend) for parameters and buffers."""
        out, seen = OrderedDict(), set()
        for mod_name, mod in self.named_modules():  # per module: parameters, then buffers
            prefix = f"{mod_name}." if mod_name else ""
            for name, p in mod._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    out[prefix + name] = p.data
            for name, b in mod._buffers.items():
                if b is not None:
                    out[prefix + name] = b.data
        return out

    def load_state_dict(self, state, strict: bool = True) -> None:
        """Copy arrays from ``state`` into parameters and buffers (in place).

        With ``strict`` every key must match; shapes must always match.  The
        error names the module class and each offending key.
        """
        own = OrderedDict(list(self.named_parameters()) + list(self.named_buffers()))
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing keys: " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected keys: " + ", ".join(unexpected))
            raise KeyError(f"{type(self).__name__}.load_state_dict: " + "; ".join(parts))
        for name, t in own.items():
            if name not in state:
                continue
            value = state[name]
            value = value.data if isinstance(value, Tensor) else value
            shape = tuple(getattr(value, "shape", ()))
            if shape != t.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: {name!r} has shape "
                                 f"{shape} in the state dict but {t.shape} in the module")
        for name, t in own.items():
            if name in state:
                value = state[name]
                value = value.data if isinstance(value, Tensor) else value
                mod = B.array_module(t.data)
                if B.is_array(value) and B.array_module(value) is not mod:
                    value = B.to_numpy(value)
                t.data = mod.asarray(value, dtype=t.dtype).copy()

    def _made_on(self, device=None, dtype=None) -> None:
        """PyTorch's factory arguments of a layer (``nn.Linear(2, 3, device=..., dtype=...)``):
        the parameters and buffers, made in the default dtype on the active backend, are moved
        and cast once, at the end of the layer's construction."""
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    def to(self, *args, **kwargs):
        """Move this module's parameters and buffers to a device and/or cast floating ones to a
        dtype, in place (``model.to("cuda")``, ``model.to(device)``, ``model.to(float64)``).

        Only this module moves: the active backend (where *new* tensors are made) is left
        alone, so two models may live on two devices.  The same Parameter objects keep their
        identity (an optimiser built before the move still holds them); gradients are moved
        with them.
        """
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__}.to(): unexpected keyword(s) "
                            f"{', '.join(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif is_device_like(a):
                device = a
            else:
                dtype = a
        module = _device(device).module() if device is not None else None
        if dtype is not None:
            dtype = dtype_of(dtype, f"{type(self).__name__}.to()")
            if dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}.to(): only floating dtypes are allowed, "
                                f"got {dtype}")

        def convert(arr, floating_only=True):
            if module is not None and B.array_module(arr) is not module:
                arr = module.asarray(B.to_numpy(arr))
            if dtype is not None and arr.dtype.kind == "f" and arr.dtype != dtype:
                arr = arr.astype(dtype)
            return arr

        for t in list(self.parameters()) + list(self.buffers()):
            t.data = convert(t.data)
            if t.grad is not None:
                t.grad = Tensor._make(convert(t.grad.data), False, None)
        return self

    def cuda(self, device=None):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    def float(self):
        return self.to("float32")

    def double(self):
        return self.to("float64")

    def type(self, dst_type):
        return self.to(dst_type)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, m in self._modules.items():
                child = repr(m).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child}")
            return "\n".join(lines) + "\n)"
        return lines[0] + ")"


class Sequential(Module):
    """Modules applied in order: ``Sequential(Linear(2, 8), ReLU(), Linear(8, 1))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                setattr(self, name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a Module")
                setattr(self, str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i):
        items = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*items[i])
        return items[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module):
        setattr(self, str(len(self)), module)
        return self
