"""The checkpoint of a training run: what it holds, how it is written, read and resumed.

``checkpoint.npz`` (pickle-free, written atomically by :func:`tinygan.save`)
holds both networks, both optimisers, the generator step, the state of the host
data stream and the config — enough for ``--resume`` to continue
*bit-identically* on CPU.  The device's random draws need no saved state: each
generator iteration draws from a stream seeded by (seed, step)
(:func:`tinygan.backend.seed_stream`, called by :class:`~tinygan.gan.run.Run`),
so a resumed run reproduces them on every backend.
"""
from __future__ import annotations

import json

import numpy as np

from .. import backend as B
from ..serialization import load, save
from .config import ConfigError, TrainConfig, given_options, instance_noise_sigma0

__all__ = ["CHECKPOINT", "FORMAT", "array_state", "run_state", "save_checkpoint",
           "load_checkpoint", "restore", "nonfinite_entries", "merge_resume", "RESUMABLE"]

CHECKPOINT = "checkpoint.npz"
FORMAT = "tinygan-gan-run"


def _host_json(obj):
    return json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))


def nonfinite_entries(tree, prefix: str = "") -> list:
    """Names of the arrays in a nested dict/list (state dicts) holding a NaN or ±inf."""
    bad = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            bad += nonfinite_entries(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            bad += nonfinite_entries(value, f"{prefix}[{i}]")
    elif B.is_array(tree) or isinstance(tree, np.ndarray):
        if tree.dtype.kind == "f":
            xp = B.array_module(tree)
            if not bool(B.to_numpy(xp.isfinite(tree).all())):
                bad.append(prefix)
    elif isinstance(tree, float) and not np.isfinite(tree):
        bad.append(prefix)
    return bad


def array_state(G, D, opt_g, opt_d, ema=None) -> dict:
    """The arrays of a run: both networks, both optimisers and, with ``ema``
    (:class:`~tinygan.gan.averaging.GeneratorEMA`), ``G_ema``, its weights."""
    state = {"G": G.state_dict(), "D": D.state_dict(),
             "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict()}
    if ema is not None:
        state["G_ema"] = ema.state_dict()
    return state


def run_state(step: int, cfg: TrainConfig, G, D, opt_g, opt_d, data, ema=None) -> dict:
    """Everything a checkpoint holds, as one dict (arrays stay on their device)."""
    return {"format": FORMAT, "step": int(step), "config": cfg.to_dict(),
            **array_state(G, D, opt_g, opt_d, ema), "data": _host_json(data.state_dict())}


def save_checkpoint(path: str, state: dict) -> None:
    """Write ``state`` (from :func:`run_state`) to ``path`` atomically."""
    save(state, path)


def load_checkpoint(path: str) -> dict:
    """Read a run's checkpoint; a file of another kind is a :class:`ConfigError`."""
    try:
        ckpt = load(path)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise ConfigError(f"cannot read checkpoint {path}: {exc}".replace("\n", " ")) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ConfigError(f"{path} is not a tinygan training checkpoint")
    missing = [k for k in ("step", "config", "G", "D", "opt_g", "opt_d", "data")
               if k not in ckpt]
    if missing:
        raise ConfigError(f"checkpoint {path} lacks {', '.join(missing)}")
    return ckpt


def restore(ckpt: dict, G, D, opt_g, opt_d, data, path: str = "the checkpoint",
            ema=None) -> int:
    """Load a checkpoint into the run's objects (and ``ema``'s weights); returns its step."""
    if ema is not None and "G_ema" not in ckpt:
        raise ConfigError(f"cannot restore {path}: it holds no G_ema for --ema")
    try:
        G.load_state_dict(ckpt["G"])
        if ema is not None:
            ema.load_state_dict(ckpt["G_ema"])
        D.load_state_dict(ckpt["D"])
        opt_g.load_state_dict(ckpt["opt_g"])
        opt_d.load_state_dict(ckpt["opt_d"])
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"cannot restore {path}: {exc}".replace("\n", " ")) from None
    data.load_state_dict(json.loads(ckpt["data"]))
    return int(ckpt["step"])


# options a resumed run may change; everything else must match the checkpoint.  lr may
# change so that a diverged run can continue from its last good checkpoint with a smaller
# one (its message says so); the change is recorded in the config's history.
RESUMABLE = ("steps", "epochs", "out", "log_every", "sample_every", "checkpoint_every",
             "progress", "figures", "data_dir", "download", "download_timeout", "n_samples",
             "lr", "lr_d")
RECORDED = ("lr", "lr_d", "steps")  # changes of these go into the run's history


def merge_resume(saved: TrainConfig, given: TrainConfig) -> TrainConfig:
    """The checkpoint's config, with the options a resumed run may change taken from ``given``.

    :func:`~tinygan.gan.config.given_options` names the options the user set;
    any other one that differs from the checkpoint is an error (a resumed run
    keeps its settings).  Changes of :data:`RECORDED` options are appended to
    ``history`` as ``{"resumed_at": None, name: [old, new]}`` (the step is filled
    in once the checkpoint is restored).
    """
    if given.model != saved.model:
        raise ConfigError(f"--resume: the checkpoint in {given.out} was trained as "
                          f"{saved.model}, not {given.model}")
    changed = {}
    for name in given_options(given):
        value, old = getattr(given, name), getattr(saved, name)
        if name == "instance_noise":  # the bare flag means the saved data's σ0
            value = instance_noise_sigma0(value, saved.data)
        if name in RESUMABLE:
            if name in RECORDED and value != old:
                changed[name] = [old, value]
            setattr(saved, name, value)
        elif name != "model" and value != old:
            raise ConfigError(f"--resume: option {name} = {value!r} differs from the "
                              f"checkpoint's {old!r}; a resumed run keeps its settings "
                              f"(it may change {', '.join(RESUMABLE)})")
    if given.epochs is not None:
        saved.steps = None
    if changed:
        saved.history = list(saved.history) + [dict(resumed_at=None, **changed)]
    saved.extra = {}
    return saved
