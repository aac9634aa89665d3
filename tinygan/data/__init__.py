"""Data: toy distributions sampled on the fly, MNIST / Fashion-MNIST from IDX files, and a
seeded minibatch iterator.  Everything here is host-side NumPy; loops move batches to the
device (``tinygan.backend.to_device``)."""
from .idx import IDXError, read_idx, read_idx_images, read_idx_labels, write_idx  # noqa: F401
from .loader import DataLoader, batches  # noqa: F401
from .resize import check_sample_shape, resize_images  # noqa: F401
from .mnist import (DATASETS, ChecksumError, DataError, DownloadError, MissingDataError,  # noqa
                    cache_dir, download, find_idx_files, find_mnist_dir, load_fashion_mnist,
                    load_mnist, to_unit_range)
from .toy import (TOY_DATASETS, GaussianMixture, SwissRoll, get_dataset, grid25,  # noqa: F401
                  gaussian1d, mixture1d, ring8, swissroll)

#: every name accepted by ``--data``: the toys, then the image datasets
DATA_NAMES = tuple(TOY_DATASETS) + tuple(DATASETS)
