"""Data: toy distributions, IDX files, MNIST loading and download, the minibatch iterator."""
import functools
import gzip
import hashlib
import http.server
import json
import math
import socket
import threading

import numpy as np
import pytest

from tinygan.data import (DATA_NAMES, TOY_DATASETS, ChecksumError, DataError, DataLoader,
                          DownloadError, GaussianMixture, IDXError, MissingDataError, batches,
                          cache_dir, download, find_mnist_dir, get_dataset, load_mnist, read_idx,
                          read_idx_images, read_idx_labels, write_idx)
from tinygan.data.toy import SwissRoll

_trapz = getattr(np, "trapezoid", None) or np.trapz  # numpy ≥ 2 renamed trapz


# ================================================================ toy distributions
@pytest.mark.parametrize("name", list(TOY_DATASETS))
def test_toy_sample_shape_dtype_and_seed(name):
    ds = get_dataset(name)
    a = ds.sample(500, np.random.default_rng(3))
    b = ds.sample(500, 3)  # an int seed means the same generator
    c = ds.sample(500, 4)
    assert a.shape == (500, ds.dim) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.isfinite(a).all()


def test_ring8_and_grid25_geometry():
    ring = get_dataset("ring8")
    assert ring.centers.shape == (8, 2) and ring.std == 0.02 and ring.dim == 2
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 2.0)
    angles = np.sort(np.mod(np.arctan2(ring.centers[:, 1], ring.centers[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / 8)
    grid = get_dataset("grid25")
    assert grid.centers.shape == (25, 2) and grid.std == 0.05
    assert {tuple(c) for c in grid.centers} == {(x, y) for x in (-4, -2, 0, 2, 4)
                                               for y in (-4, -2, 0, 2, 4)}


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_samples_follow_the_components(name):
    ds = get_dataset(name)
    x = ds.sample(20000, 0).astype(np.float64)
    d = np.linalg.norm(x[:, None, :] - ds.centers[None], axis=2)
    k = d.argmin(1)
    # every sample is within 6 std of its centre, the modes are equally used, and the
    # offsets from the centres have the stated standard deviation per coordinate
    assert d.min(1).max() < 6 * ds.std
    counts = np.bincount(k, minlength=len(ds.centers))
    expected = len(x) / len(ds.centers)
    assert np.abs(counts - expected).max() < 5 * math.sqrt(expected)
    offsets = x - ds.centers[k]
    np.testing.assert_allclose(offsets.std(0), ds.std, rtol=0.03)
    np.testing.assert_allclose(offsets.mean(0), 0.0, atol=4 * ds.std / math.sqrt(len(x)))


def test_gaussian1d_and_mixture_densities():
    g = get_dataset("gaussian1d")
    assert g.dim == 1 and g.centers.shape == (1, 1)
    x = np.linspace(-5, 9, 20001)
    dens = g.density(x)
    np.testing.assert_allclose(_trapz(dens, x), 1.0, atol=1e-9)
    mu, s = g.centers[0, 0], g.std
    expected = -0.5 * ((x[:50] - mu) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(g.log_density(x[:50]), expected, rtol=1e-12)
    samples = g.sample(40000, 1)
    assert abs(samples.mean() - mu) < 4 * s / 200 and abs(samples.std() - s) < 0.02 * s

    m = GaussianMixture("m", [[-1.0], [3.0]], 0.5, weights=[0.25, 0.75])
    np.testing.assert_allclose(_trapz(m.density(x), x), 1.0, atol=1e-9)
    share = (m.sample(40000, 2)[:, 0] > 1.0).mean()
    assert abs(share - 0.75) < 0.01
    # log-sum-exp stays finite far in the tails, where exp underflows
    assert np.isfinite(m.log_density(np.array([1e3]))).all()


def test_2d_density_integrates_to_one():
    ds = GaussianMixture("wide", [[0.0, 0.0], [1.0, -1.0]], 0.4)
    t = np.linspace(-4, 5, 601)
    gx, gy = np.meshgrid(t, t, indexing="ij")
    dens = ds.density(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(gx.shape)
    np.testing.assert_allclose(_trapz(_trapz(dens, t, axis=1), t), 1.0, atol=1e-6)


def test_swissroll_has_no_modes_and_a_similar_range():
    ds = get_dataset("swissroll")
    assert isinstance(ds, SwissRoll) and ds.centers is None and ds.dim == 2
    x = ds.sample(5000, 0)
    assert 1.5 < np.abs(x).max() < 4.5
    # points lie on the spiral r = θ·scale up to the noise: radius grows with the angle
    r = np.linalg.norm(x, axis=1)
    assert r.min() > 1.5 * math.pi * ds.scale - 5 * ds.std


def test_toy_errors():
    with pytest.raises(ValueError, match="unknown toy dataset 'ring9'.*ring8"):
        get_dataset("ring9")
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        get_dataset("ring8").sample(-1, 0)
    with pytest.raises(ValueError, match="weights"):
        GaussianMixture("bad", [[0.0], [1.0]], 1.0, weights=[0.5, 0.6])
    with pytest.raises(ValueError, match="std must be positive"):
        GaussianMixture("bad", [[0.0]], 0.0)
    with pytest.raises(ValueError, match="expected points of shape"):
        get_dataset("ring8").log_density(np.zeros((3, 3)))
    assert set(TOY_DATASETS) < set(DATA_NAMES) and {"mnist", "fashion-mnist"} < set(DATA_NAMES)


# ================================================================ IDX files
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((4, 3, 5)) * 100).astype(dtype)
    path = write_idx(tmp_path / f"a{suffix}", arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, arr)
    raw = open(path, "rb").read()
    assert (raw[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_idx_magic_numbers_are_mnists(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 7], dtype=np.uint8)
    write_idx(tmp_path / "img", images)
    write_idx(tmp_path / "lbl", labels)
    assert int.from_bytes(open(tmp_path / "img", "rb").read(4), "big") == 2051
    assert int.from_bytes(open(tmp_path / "lbl", "rb").read(4), "big") == 2049
    header = open(tmp_path / "img", "rb").read(16)
    assert [int.from_bytes(header[i:i + 4], "big") for i in (4, 8, 12)] == [2, 28, 28]
    np.testing.assert_array_equal(read_idx_images(tmp_path / "img"), images)
    np.testing.assert_array_equal(read_idx_labels(tmp_path / "lbl"), labels)
    with pytest.raises(IDXError, match="magic number 2049 but 2051"):
        read_idx_images(tmp_path / "lbl")
    with pytest.raises(IDXError, match="magic number 2051 but 2049"):
        read_idx_labels(tmp_path / "img")


def test_idx_corruption_is_reported(tmp_path):
    arr = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    good = open(write_idx(tmp_path / "good", arr), "rb").read()
    cases = {
        "truncated": (good[:-7], "truncated or corrupt"),
        "extra": (good + b"\x00", "truncated or corrupt"),
        "badmagic": (b"\x01\x02" + good[2:], "bad IDX magic"),
        "badtype": (good[:2] + b"\x07" + good[3:], "bad IDX magic"),
        "short": (good[:3], "too short"),
        "header": (good[:9], "truncated header"),
        "gzip": (gzip.compress(good)[:-10], "corrupt gzip"),
    }
    for name, (payload, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(payload)
        with pytest.raises(IDXError, match=message) as err:
            read_idx(path)
        assert name in str(err.value)  # the message names the file
    with pytest.raises(IDXError, match="no IDX type code"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


# ================================================================ MNIST from a folder
def test_load_shared_mnist_subset(mnist_dir):
    x, y = load_mnist(mnist_dir, "train")
    xt, yt = load_mnist(mnist_dir, split="test")
    assert x.shape == (8000, 1, 28, 28) and xt.shape == (2000, 1, 28, 28)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    # per-class counts over all 10,000 digits, as stated in the subset's README
    counts = np.bincount(np.concatenate([y, yt]), minlength=10)
    assert counts.tolist() == [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
    # pixels are exactly (u8 / 127.5 − 1): 256 levels in [−1, 1]
    levels = np.unique(x[:50])
    np.testing.assert_allclose((levels + 1) * 127.5, np.round((levels + 1) * 127.5), atol=1e-4)


def _write_mnist_folder(folder, n=12, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        ext = ".gz" if gz else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)
        data[split] = (images, labels)
    return data


@pytest.mark.parametrize("layout", ["the MNIST folder", "the cache above it"])
def test_load_mnist_without_a_folder_reads_what_find_mnist_dir_finds(tmp_path, monkeypatch,
                                                                     layout):
    """`tinygan train dcgan --data mnist` (load_mnist with no folder) reads the digits
    `tinygan demo` finds: $TINYGAN_DATA may name the MNIST folder itself or the cache
    holding it as mnist/, and wins over ../shared/data/mnist."""
    folder = tmp_path / "mnist"
    data = _write_mnist_folder(folder, n=5)
    monkeypatch.setenv("TINYGAN_DATA", str(folder if layout == "the MNIST folder" else tmp_path))
    assert find_mnist_dir() == str(folder)
    for split in ("train", "test"):
        x, y = load_mnist(split=split)
        np.testing.assert_array_equal(y, data[split][1])
        assert x.shape == (5, 1, 28, 28)


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_from_generated_folder(tmp_path, gz):
    data = _write_mnist_folder(tmp_path, gz=gz)
    x, y = load_mnist(tmp_path, "test")
    images, labels = data["test"]
    np.testing.assert_allclose(x[:, 0], images / 127.5 - 1.0, atol=1e-6)
    np.testing.assert_array_equal(y, labels)


def test_load_mnist_errors(tmp_path):
    with pytest.raises(MissingDataError, match="no train-images-idx3-ubyte.*download=True"):
        load_mnist(tmp_path, "train")
    with pytest.raises(DataError, match="unknown split 'valid'"):
        load_mnist(tmp_path, "valid")
    with pytest.raises(DataError, match="unknown image dataset 'cifar'"):
        load_mnist(tmp_path, dataset="cifar")
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="3 images but .* 4 labels"):
        load_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"garbage!")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        load_mnist(tmp_path)


# ================================================================ download (local server)
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        _QuietHandler.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def file_server(tmp_path):
    """An HTTP server on 127.0.0.1 (ephemeral port) serving tmp_path/'www', in a thread."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    _QuietHandler.requests = []
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _checksums(folder, algorithm):
    return {p.name: hashlib.new(algorithm, p.read_bytes()).hexdigest()
            for p in folder.iterdir() if p.name.endswith(".gz")}


@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_download_verifies_and_caches(file_server, tmp_path, monkeypatch, algorithm):
    root, url = file_server
    data = _write_mnist_folder(root, n=9)
    sums = _checksums(root, algorithm)
    cache = tmp_path / "cache"
    monkeypatch.setenv("TINYGAN_DATA", str(cache))
    assert cache_dir() == cache
    x, y = load_mnist(split="train", download=True, base_url=url, checksums=sums, timeout=5)
    np.testing.assert_array_equal(y, data["train"][1])
    assert x.shape == (9, 1, 28, 28)
    np.testing.assert_allclose(x[:, 0], data["train"][0] / 127.5 - 1.0, atol=1e-6)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == \
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    served = len(_QuietHandler.requests)
    assert served == 2
    # the whole dataset: only the two missing files are fetched, the cached ones verified
    dest = download("mnist", base_url=url, checksums=sums, timeout=5)
    assert dest == cache / "mnist" and len(_QuietHandler.requests) == served + 2
    assert not list(dest.glob("*.part"))
    # loading again needs no server at all
    x2, _ = load_mnist(split="train", download=False)
    np.testing.assert_array_equal(x, x2)


def test_download_rejects_a_corrupted_file(file_server, tmp_path):
    root, url = file_server
    _write_mnist_folder(root, n=9)
    sums = _checksums(root, "sha256")
    # the server now delivers a damaged copy of one file (one flipped byte)
    bad = root / "train-labels-idx1-ubyte.gz"
    payload = bytearray(bad.read_bytes())
    payload[-5] ^= 0xFF
    bad.write_bytes(bytes(payload))
    dest = tmp_path / "data"
    with pytest.raises(ChecksumError, match="train-labels-idx1-ubyte.gz.*deleted"):
        load_mnist(dest, "train", download=True, base_url=url, checksums=sums, timeout=5)
    assert not (dest / "train-labels-idx1-ubyte.gz").exists()
    assert not list(dest.glob("*.part"))
    # a damaged file already in the cache is deleted and fetched again
    good_sums = _checksums(root, "md5")
    (dest / "train-labels-idx1-ubyte.gz").write_bytes(b"stale")
    download("mnist", dest, base_url=url, checksums=good_sums, timeout=5, splits=("train",))
    assert hashlib.md5((dest / "train-labels-idx1-ubyte.gz").read_bytes()).hexdigest() == \
        good_sums["train-labels-idx1-ubyte.gz"]


def test_download_errors_when_offline_or_missing(file_server, tmp_path):
    root, url = file_server
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    with pytest.raises(DownloadError, match="offline"):
        download("mnist", tmp_path / "a", base_url=dead, timeout=2)
    with pytest.raises(DownloadError, match="404"):  # reachable server, file absent
        download("fashion-mnist", tmp_path / "b", base_url=url, timeout=2)
    with pytest.raises(DataError, match="no checksum known"):
        download("mnist", tmp_path / "c", base_url=url, checksums={}, timeout=2)


def test_official_checksum_table():
    from tinygan.data.mnist import DATASETS
    for name in ("mnist", "fashion-mnist"):
        table = DATASETS[name]["checksums"]
        assert set(table) == {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
        assert all(len(v) == 32 and int(v, 16) >= 0 for v in table.values())
        assert DATASETS[name]["mirrors"]


# ================================================================ minibatch iterator
def test_loader_epoch_covers_every_row_once():
    data = np.arange(10)
    loader = DataLoader(data, 4, shuffle=True, seed=1)
    assert len(loader) == 3
    first = list(loader)
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(np.concatenate(first).tolist()) == list(range(10))
    second = list(loader)  # the next epoch: a new order
    assert sorted(np.concatenate(second).tolist()) == list(range(10))
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))
    dl = DataLoader(data, 4, drop_last=True, seed=1)
    assert len(dl) == 2 and [len(b) for b in dl] == [4, 4]
    assert np.concatenate(list(DataLoader(data, 3, shuffle=False))).tolist() == list(range(10))


def test_loader_seed_and_tuples():
    x = np.arange(40).reshape(20, 2).astype(np.float32)
    y = np.arange(20)
    a = [b for b in DataLoader((x, y), 5, seed=7)]
    b = [b for b in DataLoader((x, y), 5, seed=7)]
    c = [b for b in DataLoader((x, y), 5, seed=8)]
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(xa[:, 0], 2 * ya)  # rows stay aligned across arrays
    assert not all(np.array_equal(p[1], q[1]) for p, q in zip(a, c))


def test_loader_state_resumes_bit_identically():
    x = np.random.default_rng(0).standard_normal((23, 3)).astype(np.float32)
    ref = DataLoader(x, 5, drop_last=True, seed=3)
    expected = [ref.next_batch() for _ in range(13)]  # crosses three epoch boundaries
    run = DataLoader(x, 5, drop_last=True, seed=3)
    gen = batches(run)
    got = [next(gen) for _ in range(6)]
    state = json.loads(json.dumps(run.state_dict()))  # JSON-able
    assert state["epoch"] == 1 and state["position"] == 2
    resumed = DataLoader(x, 5, drop_last=True, seed=0)
    resumed.load_state_dict(state)
    gen2 = batches(resumed)
    got += [next(gen2) for _ in range(7)]
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(e, g)
    with pytest.raises(ValueError, match="saved batch_size=5 but this loader has batch_size=4"):
        DataLoader(x, 4).load_state_dict(state)


def test_batches_from_arrays_and_loader_errors():
    gen = batches(np.arange(7), 3, seed=0)
    out = [next(gen) for _ in range(5)]
    assert all(len(b) == 3 for b in out)  # drop_last by default: fixed-size batches
    with pytest.raises(ValueError, match="batch_size is required"):
        next(batches(np.arange(7)))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(np.arange(7), 0)
    with pytest.raises(ValueError, match="array 1 has 6 rows but array 0 has 7"):
        DataLoader((np.arange(7), np.arange(6)), 2)
    with pytest.raises(ValueError, match="no batch of size 8 with drop_last"):
        DataLoader(np.arange(7), 8, drop_last=True)
    assert len(DataLoader(np.arange(7), 8)) == 1


@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never answers (or, with
    ``trickle``, sends an HTTP header and then one byte every 0.2 s)."""
    import time
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held, stop, mode = [], threading.Event(), {"trickle": False}

    def trickle(conn):
        try:
            for _ in range(100):
                if stop.wait(0.2):
                    return
                conn.send(b"x")
        except OSError:  # the client gave up and closed the connection
            pass

    def serve():
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            if mode["trickle"]:
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n")
                threading.Thread(target=trickle, args=(conn,), daemon=True).start()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/", mode
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.parametrize("trickle", [False, True])
def test_download_has_an_overall_deadline(silent_server, tmp_path, trickle):
    """Three mirrors that accept and then hang (or trickle) cannot hold the download past
    its deadline: one error naming the mirrors, within the deadline plus a margin."""
    import time
    url, mode = silent_server
    mode["trickle"] = trickle
    mirrors = [url + "a/", url + "b/", url + "c/"]
    t0 = time.monotonic()
    with pytest.raises(DownloadError) as info:
        download("mnist", tmp_path / "d", base_url=mirrors, timeout=30, deadline=1.5,
                 splits=("train",), progress=False)
    elapsed = time.monotonic() - t0
    assert elapsed < 6.0, elapsed  # deadline 1.5 s; 30 s per mirror would be 90 s
    message = str(info.value)
    assert "\n" not in message and "deadline" in message
    if not trickle:
        assert all(m in message for m in mirrors)
    assert not list((tmp_path / "d").glob("*.part"))


def test_cli_download_deadline_is_one_line(silent_server, tmp_path, capsys, monkeypatch):
    from tinygan.cli import main
    from tinygan.data import mnist
    url, _ = silent_server
    monkeypatch.setitem(mnist.DATASETS["mnist"], "mirrors", (url,))
    code = main(["train", "dcgan", "--data-dir", str(tmp_path / "d"), "--download",
                 "--download-timeout", "1", "--steps", "1", "--out", str(tmp_path / "r"),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("tinygan: error:") and len(err.strip().splitlines()) == 1
    assert "deadline" in err and url in err


def test_find_mnist_dir_tries_tinygan_data_first_and_checks_a_given_folder(tmp_path, monkeypatch):
    from tinygan.data.mnist import SPLITS, find_mnist_dir
    folder = tmp_path / "digits"
    folder.mkdir()
    assert find_mnist_dir(str(folder)) is None  # no IDX files: not an MNIST folder
    for stem in SPLITS["train"]:
        (folder / (stem + ".gz")).write_bytes(b"")
    assert find_mnist_dir(str(folder)) == str(folder)
    monkeypatch.setenv("TINYGAN_DATA", str(folder))
    assert find_mnist_dir() == str(folder)  # $TINYGAN_DATA wins over ../shared/data/mnist
