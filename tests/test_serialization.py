"""tinygan.save / tinygan.load: exact round trips, atomic writes, no pickle, clear errors."""
import os
import pickle
import zipfile

import numpy as np
import pytest

import tinygan
from tinygan import backend as B
from tinygan import nn, optim
from tinygan.serialization import SerializationError


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _trained(model):
    opt = optim.Adam(model.parameters(), lr=1e-2, betas=(0.5, 0.999))
    x = tinygan.randn(5, 3)
    for _ in range(2):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    return opt


def _assert_same(a, b, where="root"):
    """Structural equality with types and dtypes (arrays compared bit for bit)."""
    if isinstance(a, np.ndarray) or B.is_array(a):
        a = B.to_numpy(a)
        assert isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
        return
    if isinstance(a, np.generic):
        assert type(a) is type(b) and a == b, where
        return
    assert type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)), \
        f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}/{i}")
    elif isinstance(a, float) and a != a:
        assert b != b, where
    else:
        assert a == b, where


def test_checkpoint_round_trip(backend, tmp_path):
    G, D = _model(), _model()
    opt_g = _trained(G)
    ck = {
        "G": G.state_dict(), "D": D.state_dict(), "optG": opt_g.state_dict(), "step": 10,
        "config": {"lr": 2e-4, "betas": (0.5, 0.999), "name": "dcgan", "flags": [True, None],
                   "nested": {"a": {"b": -1}}, "nan": float("nan"), "big": 2 ** 70},
        "rng": B.get_rng_state(),
        "scalars": {"f32": np.float32(1.25), "i64": np.int64(-3), "f64": np.float64(0.1)},
        "dtypes": {d: (np.arange(6) % 5 - 2).astype(d).reshape(2, 3) for d in
                   ("float16", "float32", "float64", "int8", "uint8", "int32", "int64", "bool")},
        "odd": {"empty": np.zeros((0, 3), "f4"), "zero_d": np.array(7, "i2"),
                "ints": {1: "x", 2: 3}},
    }
    path = tmp_path / "ck.npz"
    tinygan.save(ck, path)
    back = tinygan.load(path)
    _assert_same(ck, back)
    # the arrays are stored under readable names, next to one metadata entry
    names = np.load(path, allow_pickle=False).files
    assert "G/0.weight" in names and "optG/state/0/exp_avg" in names and "__tinygan__" in names

    # a fresh model / optimiser restored from the file behaves identically
    G2 = _model()
    G2.load_state_dict(back["G"])
    for (k, a), (k2, b) in zip(G.state_dict().items(), G2.state_dict().items()):
        assert k == k2 and B.array_module(b) is B.xp()
        np.testing.assert_array_equal(B.to_numpy(a), B.to_numpy(b))
    opt2 = optim.Adam(G2.parameters())
    opt2.load_state_dict(back["optG"])
    x = tinygan.randn(5, 3)
    for model, opt in ((G, opt_g), (G2, opt2)):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    for a, b in zip(G.parameters(), G2.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_tensors_are_saved_as_arrays(tmp_path):
    t = tinygan.randn(2, 2)
    tinygan.save({"t": t}, tmp_path / "t.npz")
    back = tinygan.load(tmp_path / "t.npz")["t"]
    assert isinstance(back, np.ndarray) and back.dtype == np.float32
    np.testing.assert_array_equal(back, t.numpy())


def test_colliding_flat_names_are_kept_apart(tmp_path):
    obj = {"a/b": np.ones(2), "a": {"b": np.zeros(3)}}
    tinygan.save(obj, tmp_path / "c.npz")
    _assert_same(obj, tinygan.load(tmp_path / "c.npz"))


def test_no_pickle_anywhere(tmp_path):
    path = tmp_path / "ck.npz"
    tinygan.save({"m": _model().state_dict(), "s": "text", "l": [1, 2.5]}, path)
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            header = zf.read(name)[:200]
            assert b"'descr': '|O'" not in header and b"'descr': 'O'" not in header, name
    with np.load(path, allow_pickle=False) as npz:  # every entry loads without pickle
        assert all(npz[k].dtype != object for k in npz.files)
    with pytest.raises(SerializationError, match="object array"):
        tinygan.save({"bad": np.array([{}, 1], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(SerializationError, match=r"config/fn.*function"):
        tinygan.save({"config": {"fn": print}}, tmp_path / "x.npz")
    with pytest.raises(SerializationError, match="set"):
        tinygan.save({1, 2}, tmp_path / "x.npz")


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    tinygan.save({"v": np.arange(3)}, path)
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]  # no temporary left behind
    tinygan.save({"v": np.arange(4)}, path)  # overwriting works
    np.testing.assert_array_equal(tinygan.load(path)["v"], np.arange(4))

    real_savez = np.savez

    def crash(f, **arrays):  # write part of the archive, then die (disk full, Ctrl-C, ...)
        real_savez(f, **arrays)
        f.truncate(20)
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        tinygan.save({"v": np.arange(100)}, path)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]  # temp file cleaned up
    np.testing.assert_array_equal(tinygan.load(path)["v"], np.arange(4))  # old file intact


@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "ck.npz"
    tinygan.save({"m": _model().state_dict()}, path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(SerializationError) as err:
        tinygan.load(path)
    assert str(path) in str(err.value) and "checkpoint" in str(err.value)


def test_corrupted_member(tmp_path):
    path = tmp_path / "ck.npz"
    tinygan.save({"w": np.zeros(1000, "f4")}, path)
    data = bytearray(path.read_bytes())
    i = data.find(b"\x00" * 400)  # inside the array's payload
    data[i:i + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="corrupted"):
        tinygan.load(path)


def test_foreign_files(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.ones(2))
    with pytest.raises(SerializationError, match=r"not a tinygan checkpoint.*holds a") as err:
        tinygan.load(plain)
    assert str(plain) in str(err.value)

    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(SerializationError, match=r"\.npy array"):
        tinygan.load(npy)

    text = tmp_path / "notes.npz"
    text.write_text("hello, I am not an archive")
    with pytest.raises(SerializationError, match="not a readable tinygan checkpoint"):
        tinygan.load(text)

    pick = tmp_path / "evil.npz"
    pick.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(SerializationError, match=str(pick).replace("\\", "\\\\")):
        tinygan.load(pick)

    with pytest.raises(FileNotFoundError, match="missing.npz"):
        tinygan.load(tmp_path / "missing.npz")


def test_metadata_entry_without_tinygan_format(tmp_path):
    path = tmp_path / "fake.npz"
    np.savez(path, __tinygan__=np.frombuffer(b'{"hello": 1}', dtype=np.uint8))
    with pytest.raises(SerializationError, match="not tinygan's checkpoint metadata"):
        tinygan.load(path)
