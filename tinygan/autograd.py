"""Reverse-mode automatic differentiation: ``Tensor``, ``Function`` and the backward pass.

Design (docs/architecture.md shows where this layer sits and what calls it):

* A :class:`Function` computes its **forward on raw arrays** (fast, no graph
  bookkeeping) and its **backward on Tensors** using the same differentiable
  ops.  When ``create_graph=True`` the backward itself is recorded, so a
  gradient of a gradient works (double backprop, needed by WGAN-GP).
* :meth:`Tensor.backward` and :func:`grad` visit the graph in reverse
  topological order with an explicit stack (no recursion), so a 10,000-op
  chain is fine, and add up gradients that reach a tensor along several paths.
* **Imports only point down: this module imports nothing from** :mod:`tinygan.ops`
  (nor from anything above it).  It defines the class, its metadata and the
  backward pass; every operator and method that computes something (``+ - * / ** @``,
  indexing, ``.sum()``, ``.view()``, ``.astype()``, ``.clamp_()`` ...) is bound onto
  ``Tensor`` by :mod:`tinygan.ops.methods`, which ``tinygan.ops`` runs on import.
  A method added here that needed an op would be an upward import and a cycle.
* In-place changes are tracked by a **version counter** shared by tensors that
  share data (``detach()``): every Function records the versions of its inputs,
  and the backward refuses to use an input that was modified in place since,
  instead of silently differentiating the wrong numbers.
"""
from __future__ import annotations

import contextlib
import itertools
import weakref

from . import backend as B

__all__ = ["Tensor", "Function", "no_grad", "enable_grad", "set_grad_enabled",
           "inference_mode", "is_grad_enabled", "grad", "tensor", "Variable", "RemovableHandle"]


class RemovableHandle:
    """What ``register_hook`` and the module hooks return: ``handle.remove()`` takes the hook
    off (also on leaving ``with handle:``), as ``torch.utils.hooks.RemovableHandle``."""

    _ids = itertools.count()

    def __init__(self, hooks: dict):
        self._hooks, self.id = hooks, next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def add_hook(hooks: dict, hook, who: str) -> RemovableHandle:
    """Register ``hook`` (a callable) in ``hooks`` (id -> hook, in order) and return its handle."""
    if not callable(hook):
        raise TypeError(f"{who}: the hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle

_GRAD_ENABLED = [True]


def is_grad_enabled() -> bool:
    return _GRAD_ENABLED[0]


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager / decorator switching graph recording on or off."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        # A stack, not one saved flag: a decorated function may call itself (re-entering
        # the same instance), and each exit must restore what its own entry saw.
        self._saved = []

    def __enter__(self):
        self._saved.append(_GRAD_ENABLED[0])
        _GRAD_ENABLED[0] = self.mode

    def __exit__(self, *exc):
        _GRAD_ENABLED[0] = self._saved.pop()
        return False


class no_grad(set_grad_enabled):
    """Inside ``with tinygan.no_grad():`` no graph is recorded (evaluation, sampling, updates)."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


class inference_mode(set_grad_enabled):
    """``torch.inference_mode()``: here the same as ``no_grad()`` (PyTorch's extra savings are
    in its own tensor bookkeeping); ``inference_mode(False)`` records as usual."""

    def __init__(self, mode: bool = True):
        super().__init__(not mode)


class Function:
    """One differentiable operation.

    Subclasses define ``forward(self, *arrays) -> array`` and
    ``backward(self, grad_output: Tensor) -> Tensor | tuple`` (one entry per
    input, ``None`` where no gradient is needed).  Non-tensor parameters
    (stride, axis, ...) are keyword arguments of :meth:`apply` and become
    attributes.  ``self.inputs`` holds the input Tensors, ``self.output`` the
    output Tensor, ``self.needs_input_grad`` which inputs require a gradient.
    """

    inputs: tuple = ()
    needs_input_grad: tuple = ()

    def __init__(self, **params):
        self.__dict__.update(params)

    @classmethod
    def apply(cls, *inputs, **params):
        fn = cls(**params)
        tensors = tuple(x if isinstance(x, Tensor) else Tensor(x) for x in inputs)
        out_data = fn.forward(*[t.data for t in tensors])
        if _GRAD_ENABLED[0] and any(t.requires_grad for t in tensors):
            fn.inputs = tensors
            fn.needs_input_grad = tuple(t.requires_grad for t in tensors)
            fn._versions = tuple(t._version for t in tensors)
            out = Tensor._make(out_data, True, fn)
            fn._output = weakref.ref(out)
            return out
        return Tensor._make(out_data, False, None)

    @property
    def output(self) -> "Tensor":
        out = self._output()
        if out is None:  # pragma: no cover - graph already released
            raise RuntimeError(f"{type(self).__name__}: output was freed before backward")
        return out

    def forward(self, *arrays):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_output):  # pragma: no cover - abstract
        raise NotImplementedError


class Tensor:
    """An n-dimensional array with an optional gradient.

    ``data`` is an array of the active backend; ``grad`` is a Tensor (or None)
    filled by :meth:`backward`; ``requires_grad`` marks leaves whose gradient
    is wanted.  Float data given as Python numbers, lists or NumPy arrays is
    stored in the default dtype (float32) unless ``dtype`` says otherwise;
    integer data keeps its dtype (labels, indices) and, as in PyTorch, cannot
    require gradients.
    """

    __array_ufunc__ = None  # let `numpy_scalar * tensor` call Tensor.__rmul__
    __hash__ = object.__hash__  # identity hash, although == is elementwise
    # The in-place version counter, a one-element list shared by tensors viewing the same
    # data; created on first need (detach, an in-place op), so ordinary ops pay nothing.
    _vc = None

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        xp = B.xp()
        if B.is_array(data) and B.array_module(data) is xp:
            arr = data
        else:
            arr = B.to_device(data)
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        elif arr.dtype.kind == "f" and arr.dtype != B.default_dtype():
            arr = arr.astype(B.default_dtype())
        if requires_grad and arr.dtype.kind != "f":
            # As PyTorch: integer data is not cast to float behind the user's back (2**31 + 1
            # would silently become 2147483648.0 in float32); write 2.0 or pass dtype=.
            raise TypeError(f"only Tensors of floating point dtype can require gradients, "
                            f"got dtype {arr.dtype} (write the data as floats or pass dtype=)")
        self.data = arr
        self.grad = None
        self._ctx = None
        self._retain = False
        self.requires_grad = bool(requires_grad)

    @classmethod
    def _make(cls, data, requires_grad, ctx):
        t = cls.__new__(cls)
        t.data, t.grad, t._ctx, t._retain, t.requires_grad = data, None, ctx, False, requires_grad
        return t

    # ------------------------------------------------------------ metadata
    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    is_leaf = property(lambda self: self._ctx is None)
    # PyTorch conventions: size() is a method (a torch.Size-like tuple, or one dim's
    # length), numel() the element count, dim() the rank.
    def size(self, dim=None):
        if dim is None:
            return tuple(self.data.shape)
        if not -self.data.ndim <= dim < max(self.data.ndim, 1):
            raise IndexError(f"size(): dim {dim} is out of range for a tensor of shape "
                             f"{self.shape}")
        return int(self.data.shape[dim])

    def numel(self) -> int:
        return int(self.data.size)

    def dim(self) -> int:
        return self.data.ndim

    ndimension = dim
    nelement = numel

    @property
    def device(self) -> str:
        """'cpu' for NumPy data, 'cuda' for CuPy data, else the backend's name."""
        name = B.array_module(self.data).__name__
        if name == "numpy":
            return "cpu"
        return "cuda" if name.startswith("cupy") else name.rsplit(".", 1)[-1]

    @property
    def is_cuda(self) -> bool:
        return self.device == "cuda"

    # ------------------------------------------------------------ in-place versions
    @property
    def _version(self) -> int:
        return self._vc[0] if self._vc is not None else 0

    def _shared_counter(self):
        if self._vc is None:
            self._vc = [0]
        return self._vc

    def _bump_version(self) -> None:
        self._shared_counter()[0] += 1

    def __len__(self):
        return self.data.shape[0]

    def __bool__(self):
        # Without this every Tensor is truthy, so `if x > 0:` or `assert a == b` would
        # silently pass; follow NumPy: only a one-element tensor has a truth value.
        if self.data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                             f"use .any() / .all() on .numpy(), or compare .item()")
        return bool(self.data.reshape(()).item())

    def __repr__(self):
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({B.to_numpy(self.data)!r}{flag})"

    # ------------------------------------------------------------ conversions
    def numpy(self):
        """The data as a host NumPy array (copies from the GPU)."""
        return B.to_numpy(self.data)

    def item(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self.data.reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph (an in-place change to either is seen by both)."""
        out = Tensor._make(self.data, False, None)
        out._vc = self._shared_counter()
        return out

    def detach_(self) -> "Tensor":
        """Cut this tensor from its graph in place: it becomes a leaf that needs no gradient."""
        self._ctx, self.requires_grad = None, False
        return self

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only Tensors of floating point dtype can require gradients, "
                            f"got dtype {self.dtype} (write the data as floats or pass dtype=)")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        self._retain = True

    _hooks = None  # id -> hook, made by the first register_hook

    def register_hook(self, hook) -> RemovableHandle:
        """``hook(grad)`` is called with this tensor's gradient each time one is computed (by
        ``backward`` or ``grad``), before it is accumulated or passed on; a Tensor it returns
        replaces the gradient.  Returns a handle whose ``remove()`` takes the hook off."""
        if not self.requires_grad:
            raise RuntimeError(f"register_hook: the tensor of shape {self.shape} does not "
                               f"require grad, so no gradient will reach a hook on it")
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, hook, "register_hook")

    # ------------------------------------------------------------ backward
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf requiring grad.

        As ``torch.Tensor.backward``: ``gradient`` is d(loss)/d(self) and may be
        omitted only for a one-element tensor; with ``create_graph=True`` the
        gradients are recorded too, so they can be differentiated again; ``inputs``
        (a tensor or a list) limits accumulation to those leaves.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad "
                               "(no input of its graph has requires_grad=True, or it was built "
                               "under no_grad())")
        gradient = _root_grad(self, gradient, "backward()")
        if retain_graph is None:
            retain_graph = create_graph
        only = None
        if inputs is not None:
            only = {id(t) for t in ([inputs] if isinstance(inputs, Tensor) else inputs)}
        _run_backward([self], [gradient], create_graph, retain_graph, capture=None, only=only)


def tensor(data, requires_grad=False, dtype=None) -> Tensor:
    """Create a tensor on the active backend (PyTorch-style factory)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def Variable(data, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """PyTorch's pre-0.4 wrapper, kept there as a no-op: returns ``data`` as a Tensor,
    marked ``requires_grad`` when asked (old GAN scripts call ``Variable(x)`` everywhere).
    ``volatile`` is accepted and has no effect, as in PyTorch since 0.4 (use ``no_grad()``)."""
    t = data if isinstance(data, Tensor) else Tensor(data)
    if requires_grad and not t.requires_grad:
        if not t.is_leaf:
            raise RuntimeError("Variable(x, requires_grad=True): x is part of a graph; use "
                               "x.detach().requires_grad_()")
        t.requires_grad_(True)
    return t


def _root_grad(root, grad, who):
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(f"{who}: a gradient argument is needed for a non-scalar output "
                               f"of shape {root.shape}; pass grad= with that shape, or reduce "
                               f"the output to a scalar first")
        return Tensor._make(B.array_module(root.data).ones_like(root.data), False, None)
    grad = grad if isinstance(grad, Tensor) else Tensor(grad, dtype=root.dtype)
    if grad.shape != root.shape:
        raise ValueError(f"{who}: gradient of shape {grad.shape} does not match the output "
                         f"shape {root.shape}")
    return grad


def _topological_order(roots):
    """Tensors of the graph below ``roots``, each after all of its inputs (iterative DFS)."""
    order, seen = [], set()
    stack = [(r, False) for r in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is not None:
            if ctx.inputs is None:
                raise RuntimeError("trying to backward through a graph a second time; its "
                                   "buffers were freed. Pass retain_graph=True the first time.")
            for inp in ctx.inputs:
                if inp.requires_grad and id(inp) not in seen:
                    stack.append((inp, False))
    return order


def _check_versions(fn):
    """Refuse to differentiate through an input that was modified in place after its use."""
    out = fn._output()
    if out is not None and out._version != 0:
        raise RuntimeError(
            f"the output of {type(fn).__name__} (shape {out.shape}) was modified by an in-place "
            f"operation, but its backward needs it; use the out-of-place form")
    for i, (inp, v) in enumerate(zip(fn.inputs, fn._versions)):
        if inp._version != v:
            raise RuntimeError(
                f"one of the tensors needed for the gradient was modified by an in-place "
                f"operation: input {i} (shape {inp.shape}) of {type(fn).__name__} is at version "
                f"{inp._version}, but it was used at version {v}; use the out-of-place form "
                f"(x = x.clamp(...) rather than x.clamp_(...)) or .clone() it first")


def _leading_to(order, targets) -> set:
    """Ids of the tensors of ``order`` (a topological order) from which a tensor whose id is
    in ``targets`` can be reached through the graph's inputs, the targets included."""
    reach = set()
    for node in order:
        ctx = node._ctx
        if id(node) in targets or (ctx is not None and any(
                inp.requires_grad and id(inp) in reach for inp in ctx.inputs)):
            reach.add(id(node))
    return reach


def _run_backward(roots, root_grads, create_graph, retain_graph, capture, only=None):
    """The backward pass.  ``capture`` maps id -> tensor for :func:`grad`; else fill ``.grad``
    (of every leaf, or of those whose id is in ``only``).

    When the wanted tensors are named (``capture``, ``only``), a function computes only the
    input gradients that lead to one of them, as PyTorch does: the gradient penalty's
    ``grad(f(x̂), x̂, create_graph=True)`` then builds no graph for the critic's weight
    gradients, which nothing uses (benchmarks/README.md, workload (f))."""
    grads = {}
    for r, g in zip(roots, root_grads):
        grads[id(r)] = g if id(r) not in grads else grads[id(r)] + g
    order = _topological_order(roots)
    wanted = set(capture) if capture is not None else only
    reach = None if wanted is None else _leading_to(order, wanted)
    captured = {}
    with set_grad_enabled(create_graph):
        for node in reversed(order):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._hooks:
                g = _run_tensor_hooks(node, g)
            if capture is not None:
                if id(node) in capture:
                    captured[id(node)] = g
            elif (node._ctx is None or node._retain) and (only is None or id(node) in only):
                if create_graph:
                    g_keep = g
                elif node.grad is None:
                    # An owned, writable copy: g may be a read-only broadcast view (from
                    # sum/mean) or the very array another leaf (a + b) or the caller's
                    # grad= holds, and .grad may later be changed in place.
                    # The copy takes the *leaf's* memory layout (empty_like keeps it), so
                    # the optimiser's in-place update mixes no layouts: a C-order copy of
                    # a channels-last gradient is a slow transposed copy (2.3 ms for
                    # 64x64x32x32), and keeping g's own layout (copy(order="K")) left
                    # Linear weight gradients Fortran-ordered against C-ordered Adam
                    # state, +2.5 ms per MLP-GAN step (benchmarks/README.md, workload (a)).
                    buf = B.array_module(g.data).empty_like(node.data, dtype=g.data.dtype)
                    buf[...] = g.data
                    g_keep = Tensor._make(buf, False, None)
                else:
                    g_keep = g.detach()
                node.grad = g_keep if node.grad is None else node.grad + g_keep
            fn = node._ctx
            if fn is None:
                continue
            _check_versions(fn)
            needs = fn.needs_input_grad
            if reach is not None:
                needs = tuple(n and id(inp) in reach for n, inp in zip(needs, fn.inputs))
            if any(needs):
                in_grads = _backward_of(fn, g, needs)
            else:  # nothing wanted lies below this function
                in_grads = ()
            for inp, ig, need in zip(fn.inputs, in_grads, needs):
                if ig is None or not need or not inp.requires_grad:
                    continue
                if ig.shape != inp.shape:  # an engine bug, never user error
                    raise RuntimeError(f"{type(fn).__name__}.backward returned a gradient of "
                                       f"shape {ig.shape} for an input of shape {inp.shape}")
                prev = grads.get(id(inp))
                grads[id(inp)] = ig if prev is None else prev + ig
            if not retain_graph:
                fn.inputs = None
    return captured


def _run_tensor_hooks(node, g):
    """``node``'s gradient after its ``register_hook`` hooks, in the order they were added."""
    for hook in list(node._hooks.values()):
        out = hook(g)
        if out is not None:
            if not isinstance(out, Tensor) or out.shape != g.shape:
                got = out.shape if isinstance(out, Tensor) else type(out).__name__
                raise RuntimeError(f"a hook on a tensor of shape {node.shape} returned {got}; "
                                   f"it must return None or a Tensor of the gradient's shape")
            g = out
    return g


def _backward_of(fn, g, needs) -> tuple:
    """``fn.backward(g)`` as a tuple, computing only the input gradients flagged in ``needs``
    (the function's own flags are restored afterwards: a retained graph is run again)."""
    own = fn.needs_input_grad
    if needs is own:
        in_grads = fn.backward(g)
    else:
        fn.needs_input_grad = needs
        try:
            in_grads = fn.backward(g)
        finally:
            fn.needs_input_grad = own
    return in_grads if isinstance(in_grads, tuple) else (in_grads,)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=False, is_grads_batched=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated).

    As ``torch.autograd.grad``: the result is **always a tuple**, one entry per
    input, even for a single input tensor (so ``grad(d, x)[0]`` is x's whole
    gradient, not its first sample's).  ``grad_outputs`` holds d(loss)/d(output)
    per output (None for a one-element output); with ``create_graph=True`` the
    result is part of a graph and can be differentiated again (the WGAN-GP
    penalty does this); ``retain_graph`` defaults to ``create_graph``; an input
    the outputs do not depend on is an error unless ``allow_unused=True`` (then
    None).  ``only_inputs`` is accepted for compatibility (PyTorch ignores it too).
    """
    if is_grads_batched:
        raise NotImplementedError("grad(): is_grads_batched=True is not supported; loop over "
                                  "the batch of grad_outputs instead")
    del only_inputs  # deprecated in PyTorch, where it has no effect either
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad(): {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): input {i} is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"grad(): input {i} (shape {t.shape}) does not require grad")
    for o in outputs:
        if not o.requires_grad:
            raise RuntimeError(f"grad(): output of shape {o.shape} does not require grad")
    root_grads = [_root_grad(o, g, "grad()") for o, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    capture = {id(t): t for t in inputs}
    captured = _run_backward(outputs, root_grads, create_graph, retain_graph, capture)
    result = []
    for i, t in enumerate(inputs):
        g = captured.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad(): input {i} (shape {t.shape}) is not reachable from "
                                   f"the outputs; pass allow_unused=True to get None")
        elif not create_graph:
            g = g.detach()
        result.append(g)
    return tuple(result)
