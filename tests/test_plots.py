"""Figures: every plot writes a valid PNG of a sensible size, headless."""
import struct

import numpy as np
import pytest

import tinygan
from tinygan import plots
from tinygan.data import get_dataset

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from the IHDR chunk, after checking the PNG signature."""
    raw = open(path, "rb").read()
    assert raw[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert raw[12:16] == b"IHDR"
    width, height = struct.unpack(">II", raw[16:24])
    assert raw.rstrip()[-8:-4] == b"IEND" or b"IEND" in raw[-12:]
    return width, height


def test_image_grid_layout_and_pixels(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (10, 1, 28, 28)).astype(np.float32)
    path = plots.save_image_grid(images, tmp_path / "grid.png", nrow=4)
    # 4 columns × 3 rows of 28 px with 2 px padding around every image
    assert png_size(path) == (4 * 30 + 2, 3 * 30 + 2)
    from matplotlib.image import imread
    back = imread(path)[..., 0]  # gray → equal RGB channels
    # image 5 sits in row 1, column 1; pixels are (x + 1) / 2 quantised to 8 bits
    np.testing.assert_allclose(back[32:60, 32:60], (images[5, 0] + 1) / 2, atol=0.5 / 255 + 1e-6)
    assert back[0, 0] == 0.0  # padding is black (−1)
    grid = plots.image_grid(images, nrow=4)
    assert grid.shape == (1, 92, 122)


def test_image_grid_rgb_tensor_and_scale(tmp_path):
    images = tinygan.tensor(np.zeros((3, 3, 8, 8), np.float32))  # a Tensor is accepted
    path = plots.save_image_grid(images, tmp_path / "sub" / "rgb.png", nrow=8, scale=3)
    assert png_size(path) == (3 * (3 * 10 + 2), 3 * (10 + 2))


def test_image_grid_errors(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\)"):
        plots.save_image_grid(np.zeros((2, 3)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="1 or 3 channels"):
        plots.save_image_grid(np.zeros((2, 2, 4, 4)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="NaN"):
        plots.save_image_grid(np.full((1, 1, 4, 4), np.nan), tmp_path / "x.png")
    with pytest.raises(ValueError, match="nrow"):
        plots.save_image_grid(np.zeros((1, 1, 4, 4)), tmp_path / "x.png", nrow=0)


def test_plot_losses(tmp_path):
    records = [{"step": s, "loss_d": 1.0 / (s + 1), "loss_g": 0.5 + 0.01 * s,
                "wasserstein": 0.1 * s, "d_real": 0.7, "d_fake": 0.3, "sigma": 0.1,
                "samples_per_sec": 1000.0, "phase": "train"} for s in range(0, 200, 10)]
    path = plots.plot_losses(records, tmp_path / "losses.png")
    w, h = png_size(path)
    assert w == 700 and h == int(2.6 * 4 * 100)  # four panels: losses, W, D means, sigma
    only_losses = [{"step": r["step"], "loss_d": r["loss_d"]} for r in records]
    w, h = png_size(plots.plot_losses(only_losses, tmp_path / "l2.png"))
    assert h == 260
    with pytest.raises(ValueError, match="no records"):
        plots.plot_losses([], tmp_path / "x.png")
    with pytest.raises(ValueError, match="no loss-like numeric keys"):
        plots.plot_losses([{"step": 1, "foo": 2.0}], tmp_path / "x.png")


def test_plot_2d_with_critic_contour(tmp_path):
    ds = get_dataset("ring8")
    samples = ds.sample(500, 0)
    calls = []

    def critic(points):
        calls.append(points.shape)
        assert points.dtype == np.float32
        return -np.linalg.norm(points, axis=1)

    path = plots.plot_2d(samples, tmp_path / "ring.png", centers=ds.centers, critic_fn=critic,
                         resolution=50, title="ring8")
    assert calls == [(2500, 2)]  # one vectorised call on the whole grid
    assert png_size(path) == (600, 550)
    assert png_size(plots.plot_2d(samples, tmp_path / "plain.png")) == (600, 550)
    roll = get_dataset("swissroll")
    assert png_size(plots.plot_2d(roll.sample(300, 0), tmp_path / "roll.png",
                                  curve=roll.curve(512)[1])) == (600, 550)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plots.plot_2d(samples[:, :1], tmp_path / "x.png")
    with pytest.raises(ValueError, match="critic_fn returned 3 values"):
        plots.plot_2d(samples, tmp_path / "x.png", critic_fn=lambda p: np.zeros(3))


def test_plot_1d_with_density_and_discriminator(tmp_path):
    ds = get_dataset("gaussian1d")
    samples = tinygan.tensor(ds.sample(1000, 0))
    path = plots.plot_1d(samples, tmp_path / "one.png", density_fn=ds.density,
                         d_fn=lambda x: 1 / (1 + np.exp(-x)), title="1-D")
    assert png_size(path) == (700, 400)
    with pytest.raises(ValueError, match="no finite samples"):
        plots.plot_1d(np.array([np.nan]), tmp_path / "x.png")
