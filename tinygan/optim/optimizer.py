"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``/``step``, state dicts.

Mirrors ``torch.optim.Optimizer`` so that code written for PyTorch reads the
same: ``param_groups`` is a list of dicts, each holding ``"params"`` (a list of
Parameters) and that group's hyperparameters (filled from ``defaults``);
``state`` maps each parameter to a dict of arrays and counters.

Updates run on the raw arrays (``p.data``) in place, outside any graph.
Hyperparameters are kept as Python numbers, so that ``array * lr`` keeps the
array's dtype (float32 stays float32; NumPy/CuPy treat Python scalars as
"weak").

``state_dict()`` is made of plain containers — dicts, lists, tuples, numbers
and arrays — with the state keyed by the parameter's index across all groups
(0, 1, 2, ... in ``param_groups`` order), exactly like PyTorch, so that
``tinygan.save`` can write it to an ``.npz`` without pickle.
"""
from __future__ import annotations

import math

from .. import backend as B
from ..autograd import Tensor, enable_grad
from ..ops._util import elementwise_jobs_on_threads


def _is_learning_rate(lr) -> bool:
    return isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) \
        and lr >= 0


class Optimizer:
    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state = {}  # id(param) -> dict
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Parameters "
                            f"or of dicts, got a single Tensor of shape {params.shape} "
                            f"(wrap it in a list)")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ------------------------------------------------------------ learning rate
    @property
    def lr(self) -> float:
        """The learning rate of every parameter group (an error if the groups differ).

        PyTorch keeps the rate only in ``param_groups[i]["lr"]``; ``opt.lr`` is a
        shorthand for the common case of one rate, and setting it writes every group,
        so the next ``step()`` uses it (schedules such as demo 1's step-down).
        """
        rates = {g["lr"] for g in self.param_groups}
        if len(rates) != 1:
            raise ValueError(f"{type(self).__name__}.lr: the parameter groups have different "
                             f"learning rates {[g['lr'] for g in self.param_groups]}; read "
                             f"param_groups[i]['lr'] instead")
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value) -> None:
        self._check(_is_learning_rate(value), "lr", value, "must be a finite number >= 0")
        for group in self.param_groups:
            group["lr"] = value

    # ------------------------------------------------------------ groups
    def add_param_group(self, group: dict) -> None:
        """Add a group ``{"params": [...], **hyperparameters}`` (missing ones from defaults)."""
        who = type(self).__name__
        if not isinstance(group, dict):
            raise TypeError(f"{who}: a parameter group must be a dict, got {type(group).__name__}")
        group = dict(group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{who}: a parameter group needs a 'params' entry")
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{who}: parameter {i} of group {len(self.param_groups)} is a "
                                f"{type(p).__name__}, not a Tensor/Parameter")
            if p.data.dtype.kind != "f":
                raise TypeError(f"{who}: can only optimise floating tensors, parameter {i} "
                                f"has dtype {p.dtype}")
            if not p.is_leaf:
                raise ValueError(f"{who}: can't optimise a non-leaf Tensor (parameter {i}, "
                                 f"shape {p.shape}); pass the model's parameters()")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{who}: a parameter appears twice in one group")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{who}: some parameters appear in more than one parameter group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        group["params"] = params
        self._validate(group)
        self.param_groups.append(group)

    def _validate(self, group: dict) -> None:
        """Subclasses check their hyperparameters here (clear messages)."""

    def _check(self, ok: bool, name: str, value, rule: str) -> None:
        if not ok:
            raise ValueError(f"{type(self).__name__}: invalid {name}={value!r} ({rule})")

    def _check_common(self, group: dict) -> None:
        lr, wd = group["lr"], group.get("weight_decay", 0.0)
        self._check(_is_learning_rate(lr), "lr", lr, "must be a finite number >= 0")
        self._check(isinstance(wd, (int, float)) and wd >= 0, "weight_decay", wd, "must be >= 0")
        if "eps" in group:
            self._check(group["eps"] >= 0, "eps", group["eps"], "must be >= 0")

    # ------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (set to None, PyTorch's default) before the next backward."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = Tensor._make(B.array_module(p.grad.data).zeros_like(p.grad.data),
                                          False, None)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        jobs = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue  # e.g. a frozen sub-network: PyTorch skips it too
                g = p.grad.data
                if g.shape != p.data.shape:
                    raise RuntimeError(f"{type(self).__name__}: gradient of shape {g.shape} "
                                       f"for a parameter of shape {p.shape}")
                if g.dtype != p.data.dtype:
                    g = g.astype(p.data.dtype)
                state = self.state.setdefault(id(p), {})
                job = self._update(p.data, g, state, group)
                if job is not None:
                    jobs.append(job)
                # an in-place change, as PyTorch counts it: a graph that saved p before
                # this step refuses to backpropagate through the new values
                p._bump_version()
        # every parameter's elementwise update in one hand-off to the host threads
        elementwise_jobs_on_threads(jobs)
        return loss

    def _update(self, p, g, state: dict, group: dict):  # pragma: no cover - abstract
        """Update array ``p`` in place from gradient array ``g`` (do not modify ``g``).

        Either do it and return None, or return ``(kernel, arrays)``: ``kernel(*arrays)``
        does it, elementwise in the same-shape ``arrays`` (``p``, ``g`` and the state),
        writing only ``p`` and the state.  :meth:`step` runs the kernels of all
        parameters on the host threads (ops/_util.elementwise_jobs_on_threads)."""
        raise NotImplementedError

    # ------------------------------------------------------------ state dicts
    def _params(self):
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict:
        """PyTorch's layout: ``{"state": {index: {name: array | number}},
        "param_groups": [{..., "params": [index, ...]}]}``."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[pid]: dict(s) for pid, s in self.state.items() if pid in index}
        groups, start = [], 0
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = list(range(start, start + len(g["params"])))
            start += len(g["params"])
            groups.append(packed)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state (arrays copied onto each parameter's device)."""
        who = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            raise ValueError(f"{who}.load_state_dict: expected a dict with 'state' and "
                             f"'param_groups' (from Optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{who}.load_state_dict: the state dict has {len(saved_groups)} "
                             f"parameter group(s), the optimiser has {len(self.param_groups)}")
        for i, (saved, own) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"{who}.load_state_dict: group {i} has {len(saved['params'])} "
                                 f"parameter(s) in the state dict but {len(own['params'])} here")
        params = {}
        for saved, own in zip(saved_groups, self.param_groups):
            for key, p in zip(saved["params"], own["params"]):
                params[int(key)] = p
        new_state = {}
        for key, entries in state_dict["state"].items():
            key = int(key)
            if key not in params:
                raise KeyError(f"{who}.load_state_dict: state for parameter index {key}, "
                               f"which no parameter group lists")
            p = params[key]
            new_state[id(p)] = {name: self._to_param_device(v, p, key, name)
                                for name, v in entries.items()}
        for saved, own in zip(saved_groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = tuple(v) if isinstance(v, list) else v
            self._validate(own)
        self.state = new_state

    def _to_param_device(self, value, p, key, name):
        if isinstance(value, Tensor):
            value = value.data
        if not B.is_array(value):
            return value  # counters such as "step"
        if tuple(value.shape) != p.shape:
            raise ValueError(f"{type(self).__name__}.load_state_dict: state {name!r} of "
                             f"parameter {key} has shape {tuple(value.shape)}, the parameter "
                             f"has shape {p.shape}")
        mod = B.array_module(p.data)
        if B.array_module(value) is not mod:
            value = B.to_numpy(value)
        return mod.asarray(value, dtype=p.dtype).copy()

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"  group {i}: {len(g['params'])} params, " + ", ".join(
                f"{k}={v}" for k, v in g.items() if k != "params"))
        return "\n".join(lines) + "\n)"
