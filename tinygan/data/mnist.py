"""MNIST and Fashion-MNIST: load the four standard IDX files, optionally download them.

``load_mnist(data_dir, split)`` reads ``train-*`` or ``t10k-*`` IDX files
(gzipped or not) from a folder and returns images scaled to [−1, 1] (the
range of the generator's Tanh output) as float32 of shape (N, 1, 28, 28),
and the labels as int64 (N,).

With ``download=True`` missing files are fetched from the dataset's mirrors
(or ``base_url``), checked against the MD5 / SHA-256 table below, and kept in
the cache folder: ``$TINYGAN_DATA`` when set, else ``~/.cache/tinygan``, one
sub-folder per dataset.  A file whose checksum does not match is deleted and
reported (:class:`ChecksumError`); an unreachable server gives a
:class:`DownloadError` that says so (offline?) and how to proceed.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from .idx import IDXError, read_idx_images, read_idx_labels

__all__ = ["DataError", "MissingDataError", "DownloadError", "ChecksumError", "DATASETS",
           "SPLITS", "cache_dir", "find_mnist_dir", "find_idx_files", "download", "load_mnist",
           "load_fashion_mnist", "to_unit_range", "file_checksum"]

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# MD5 of the official gzipped files (as listed by torchvision and by the datasets' authors).
DATASETS = {
    "mnist": {
        "mirrors": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/",
                    "http://yann.lecun.com/exdb/mnist/"),
        "checksums": {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    },
    "fashion-mnist": {
        "mirrors": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        "checksums": {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    },
}


class DataError(RuntimeError):
    """A dataset cannot be loaded (the message says why and what to do)."""


class MissingDataError(DataError, FileNotFoundError):
    """The IDX files are not in the folder."""


class DownloadError(DataError):
    """No mirror could be reached (offline, firewall, wrong URL)."""


class ChecksumError(DataError):
    """A downloaded or cached file does not have the published checksum (it was deleted)."""


def cache_dir() -> Path:
    """``$TINYGAN_DATA`` if set, else ``~/.cache/tinygan``."""
    env = os.environ.get("TINYGAN_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "tinygan"


def _has_split(folder, split: str = "train") -> bool:
    try:
        find_idx_files(folder, split)
    except MissingDataError:
        return False
    return True


def find_mnist_dir(folder=None):
    """An MNIST folder already on disk (absolute path), or None; nothing is downloaded.

    With ``folder`` given: that folder if it holds the training IDX files, else None.
    Otherwise the first that does of ``$TINYGAN_DATA`` and its ``mnist`` sub-folder (the
    variable may name the MNIST folder or the cache it lives in), ``../shared/data/mnist``
    and ``shared/data/mnist`` relative to the working directory, ``../shared/data/mnist``
    next to the repository holding this package, and the download cache
    (:func:`cache_dir` ``/ "mnist"``).  The demos, ``tinygan demo``, ``tinygan train``
    (:func:`load_mnist` without a folder) and the tests all look here, so they find the
    same files.
    """
    if folder is not None:
        return os.path.abspath(os.path.expanduser(folder)) if _has_split(folder) else None
    repo = Path(__file__).resolve().parents[2]  # tinygan/data/mnist.py -> the repository
    env = os.environ.get("TINYGAN_DATA")
    candidates = [env, env and os.path.join(env, "mnist"),
                  os.path.join("..", "shared", "data", "mnist"),
                  os.path.join("shared", "data", "mnist"),
                  repo.parent / "shared" / "data" / "mnist",
                  cache_dir() / "mnist"]
    for candidate in candidates:
        if candidate and _has_split(candidate):
            return os.path.abspath(os.path.expanduser(candidate))
    return None


def _dataset_info(dataset: str) -> dict:
    key = str(dataset).lower().replace("_", "-")
    if key not in DATASETS:
        raise DataError(f"unknown image dataset {dataset!r}; choose one of "
                        f"{', '.join(DATASETS)}")
    return DATASETS[key]


def _check_split(split: str):
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose 'train' or 'test'")
    return SPLITS[split]


def find_idx_files(data_dir, split: str = "train"):
    """(images path, labels path) of ``split`` in ``data_dir`` (``.gz`` or uncompressed)."""
    folder = Path(data_dir).expanduser()
    found = []
    for stem in _check_split(split):
        hit = next((folder / (stem + ext) for ext in (".gz", "")
                    if (folder / (stem + ext)).is_file()), None)
        if hit is None:
            raise MissingDataError(f"no {stem}[.gz] in {folder} (an MNIST-style folder holds "
                                   f"{', '.join(s + '.gz' for s in SPLITS[split])}); pass "
                                   f"download=True (--download) to fetch them")
        found.append(hit)
    return tuple(found)


def file_checksum(path, algorithm: str = "md5") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _algorithm(expected: str) -> str:
    # A hex digest's length tells its algorithm: 32 → MD5, 64 → SHA-256.
    algos = {32: "md5", 64: "sha256"}
    if len(expected) not in algos:
        raise DataError(f"checksum {expected!r} is neither an MD5 (32 hex digits) nor a "
                        f"SHA-256 (64 hex digits)")
    return algos[len(expected)]


def _verify(path: Path, expected: str | None) -> None:
    """Raise ChecksumError (after deleting the file) when ``path`` does not match."""
    if expected is None:
        return
    expected = expected.lower()
    got = file_checksum(path, _algorithm(expected))
    if got != expected:
        path.unlink(missing_ok=True)
        raise ChecksumError(f"{path.name}: {_algorithm(expected)} checksum {got} does not "
                            f"match the published {expected}; the file was deleted (a "
                            f"corrupted download or a wrong mirror)")


class DeadlineExceeded(DownloadError):
    """The overall ``deadline`` of :func:`download` passed."""


def _fetch(url: str, target: Path, timeout: float, deadline_at: float, progress) -> None:
    """Stream ``url`` into ``target``; every socket wait is bounded by ``timeout`` and by
    what is left until ``deadline_at`` (a server that accepts and then trickles or stalls
    cannot hold the download longer than the deadline)."""
    part = target.with_name(target.name + ".part")

    def left():
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded(f"{url}: the deadline passed")
        return remaining
    try:
        with urllib.request.urlopen(url, timeout=min(timeout, left())) as response, \
                open(part, "wb") as f:
            total = response.headers.get("Content-Length")
            from tqdm.auto import tqdm
            with tqdm(total=int(total) if total and total.isdigit() else None, unit="B",
                      unit_scale=True, desc=target.name, disable=not progress,
                      leave=False) as bar:
                while True:
                    sock = getattr(getattr(response, "fp", None), "raw", None)
                    sock = getattr(sock, "_sock", None)
                    if sock is not None:
                        sock.settimeout(min(timeout, left()))
                    block = response.read1(1 << 16)  # what has arrived: never waits for more
                    if not block:
                        break
                    f.write(block)
                    bar.update(len(block))
                    left()
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def _deadline_error(name, deadline, mirrors) -> DownloadError:
    return DownloadError(f"could not download {name} within the {deadline:g} s deadline "
                         f"(mirrors tried: {', '.join(mirrors)}); raise it with "
                         f"--download-timeout, or copy the IDX files into a folder and pass "
                         f"--data-dir")


def download(dataset: str = "mnist", dest=None, base_url=None, checksums=None,
             timeout: float = 30.0, splits=("train", "test"), deadline: float = 60.0,
             progress=None) -> Path:
    """Fetch the IDX files of ``dataset`` into ``dest`` (default: the cache) and verify them.

    ``deadline``: seconds for the whole download, every mirror and file included
    (``timeout`` bounds each single wait for the server); past it the download
    stops with one :class:`DownloadError` naming the mirrors tried.
    ``progress``: a byte-count progress bar (default: only on a terminal).

    ``base_url`` (one URL or a list) replaces the dataset's mirrors;
    ``checksums`` (file name → MD5 or SHA-256 hex digest) replaces the table of
    the official files, and ``checksums=False`` skips verification.  Files
    already present with the right checksum are not downloaded again.
    """
    info = _dataset_info(dataset)
    key = str(dataset).lower().replace("_", "-")
    dest = Path(dest).expanduser() if dest is not None else cache_dir() / key
    dest.mkdir(parents=True, exist_ok=True)
    mirrors = info["mirrors"] if base_url is None else (
        (base_url,) if isinstance(base_url, str) else tuple(base_url))
    table = {} if checksums is False else (info["checksums"] if checksums is None
                                           else dict(checksums))
    names = [stem + ".gz" for split in splits for stem in _check_split(split)]
    if progress is None:
        progress = sys.stderr.isatty()
    deadline_at = time.monotonic() + float(deadline)
    for name in names:
        target, expected = dest / name, table.get(name)
        if checksums is not False and expected is None:
            raise DataError(f"no checksum known for {name}; pass checksums={{{name!r}: ...}} "
                            f"or checksums=False to skip verification")
        if target.is_file():
            try:
                _verify(target, expected)
                continue
            except ChecksumError:
                pass  # a stale or damaged cached copy: it was deleted, fetch it again
        errors, unreachable = [], False
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                _fetch(url, target, timeout, deadline_at, progress)
                _verify(target, expected)
                break
            except DeadlineExceeded:
                raise _deadline_error(name, deadline, mirrors) from None
            except ChecksumError as exc:
                errors.append(exc)
            except urllib.error.HTTPError as exc:  # the server answered, without the file
                errors.append(DownloadError(f"{url}: HTTP {exc.code} {exc.reason}"))
            except (urllib.error.URLError, http.client.HTTPException, socket.timeout,
                    ConnectionError, TimeoutError) as exc:
                if time.monotonic() >= deadline_at - 0.05:  # that wait used up the deadline
                    raise _deadline_error(name, deadline, mirrors) from None
                unreachable = True
                errors.append(DownloadError(f"{url}: {getattr(exc, 'reason', exc)}"))
        else:
            kind = ChecksumError if any(isinstance(e, ChecksumError) for e in errors) \
                else DownloadError
            detail = "; ".join(str(e) for e in errors)
            hint = (" — are you offline? Copy the four IDX files into a folder and pass it as "
                    "data_dir (--data-dir) instead") if unreachable else ""
            raise kind(f"could not download {name} from {', '.join(mirrors)}: {detail}{hint}")
    return dest


_download = download  # load_mnist's ``download`` flag shadows the function's name


def to_unit_range(images_uint8) -> np.ndarray:
    """uint8 pixels 0..255 → float32 in [−1, 1] (x / 127.5 − 1), the range of G's Tanh."""
    x = np.asarray(images_uint8)
    return x.astype(np.float32) * np.float32(2.0 / 255.0) - np.float32(1.0)


def load_mnist(data_dir=None, split: str = "train", download: bool = False,
               dataset: str = "mnist", base_url=None, checksums=None,
               timeout: float = 30.0, deadline: float = 60.0):
    """Images (N, 1, 28, 28) float32 in [−1, 1] and labels (N,) int64 of ``split``.

    ``data_dir`` defaults, for MNIST read without downloading, to the folder that
    :func:`find_mnist_dir` finds (``$TINYGAN_DATA``, ``../shared/data/mnist``, ..., the
    cache), so that ``tinygan train dcgan`` reads the digits ``tinygan demo`` found;
    otherwise to the cache folder of ``dataset`` ("mnist" or "fashion-mnist").  With
    ``download=True`` missing files are downloaded (and verified) into ``data_dir``.
    """
    info_name = str(dataset).lower().replace("_", "-")
    _dataset_info(info_name)
    _check_split(split)
    if data_dir is None and info_name == "mnist" and not download:
        data_dir = find_mnist_dir()
    folder = Path(data_dir).expanduser() if data_dir is not None else cache_dir() / info_name
    if data_dir is not None and folder.exists() and not folder.is_dir():
        raise DataError(f"data_dir {folder} is not a folder")
    try:
        img_path, lbl_path = find_idx_files(folder, split)
    except MissingDataError:
        if not download:
            raise
        _download(info_name, folder, base_url=base_url, checksums=checksums,
                  timeout=timeout, splits=(split,), deadline=deadline)
        img_path, lbl_path = find_idx_files(folder, split)
    try:
        images = read_idx_images(img_path)
        labels = read_idx_labels(lbl_path)
    except IDXError as exc:
        raise DataError(str(exc)) from None
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{img_path.name} holds {images.shape[0]} images but "
                        f"{lbl_path.name} holds {labels.shape[0]} labels")
    return to_unit_range(images)[:, None, :, :], labels.astype(np.int64)


def load_fashion_mnist(data_dir=None, split: str = "train", download: bool = False, **kwargs):
    """:func:`load_mnist` for Fashion-MNIST (same file names and format)."""
    return load_mnist(data_dir, split, download=download, dataset="fashion-mnist", **kwargs)
