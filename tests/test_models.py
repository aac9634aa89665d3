"""Generators and discriminators: shapes, the DCGAN rules, init, gradients on both backends."""
import numpy as np
import pytest

import tinygan
from tinygan import backend as B
from tinygan import nn
from tinygan.gan.models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,
                                MLPGenerator, MLPImageDiscriminator, MLPImageGenerator)


def _directional_derivative_matches(loss_fn, params, h=1e-7, seed=0):
    """Σ ∂L/∂θ · V from backward against (L(θ + hV) − L(θ − hV)) / 2h for a random
    direction V over *all* parameters at once (float64): one check of every gradient.

    h = 1e-7, not gradcheck's 1e-6: moving every parameter at once shifts each ReLU /
    LeakyReLU input by ~h·√(#params), and at h = 1e-6 some of the thousands of DCGAN units
    cross their kink (measured relative error 1.2e-2 for seed 2; 1e-9 at h = 1e-7).
    """
    rng = np.random.default_rng(seed)
    loss_fn().backward()
    for p in params:
        assert np.abs(B.to_numpy(p.grad.data)).max() > 0  # every parameter is reached
    directions = [rng.standard_normal(p.shape) for p in params]
    analytic = sum(float((B.to_numpy(p.grad.data) * v).sum()) for p, v in zip(params, directions))
    originals = [p.data for p in params]

    def shifted(sign):
        for p, d, v in zip(params, originals, directions):
            p.data = d + sign * h * B.to_device(v)
        with tinygan.no_grad():
            value = loss_fn().item()
        for p, d in zip(params, originals):
            p.data = d
        return value

    numeric = (shifted(1.0) - shifted(-1.0)) / (2 * h)
    # observed relative error <= 1.3e-9 over seeds 0-2 (MLP and DCGAN, NumPy and the
    # stand-in, OpenBLAS Haswell and Sandybridge): >= 700x inside the bound
    assert analytic == pytest.approx(numeric, rel=1e-6, abs=0)


def _layers(model):
    return [m for m in model.modules() if m is not model and not isinstance(m, nn.Sequential)]


def _kinds(model):
    return [type(m).__name__ for m in _layers(model)]


def test_mlp_toy_default_is_three_hidden_layers_of_512_relu():
    G = MLPGenerator(2, 2)
    D = MLPDiscriminator(2)
    assert _kinds(G) == ["Linear", "ReLU"] * 3 + ["Linear"]
    assert [m.out_features for m in _layers(G) if isinstance(m, nn.Linear)] == [512, 512, 512, 2]
    assert [m.out_features for m in _layers(D) if isinstance(m, nn.Linear)] == [512, 512, 512, 1]


def test_mlp_shapes_options_and_backward(backend):
    G = MLPGenerator(3, 2, hidden=(8, 8), activation="leaky_relu", out_activation="tanh")
    D = MLPDiscriminator(2, hidden=(8,), activation="leaky_relu")
    z = tinygan.randn(5, 3)
    x = G(z)
    assert x.shape == (5, 2) and G.noise_shape(5) == (5, 3)
    assert float(B.to_numpy(abs(x).max().data)) <= 1.0  # tanh output
    out = D(x)
    assert out.shape == (5, 1)
    slopes = [m.negative_slope for m in _layers(D) if isinstance(m, nn.LeakyReLU)]
    assert slopes == [0.2]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_gradients_match_finite_differences(backend, float64, seed):
    tinygan.manual_seed(seed)
    G = MLPGenerator(3, 2, hidden=(8, 8), activation="leaky_relu", out_activation="tanh")
    D = MLPDiscriminator(2, hidden=(8,), activation="leaky_relu")
    z = tinygan.randn(5, 3)
    params = list(G.parameters()) + list(D.parameters())
    _directional_derivative_matches(lambda: D(G(z)).sum(), params)
    # the logit's bias: ∂ Σ_n D(x_n) / ∂b = N exactly
    np.testing.assert_allclose(B.to_numpy(list(D.parameters())[-1].grad.data), [5.0])


def test_mlp_image_pair_flattens_and_unflattens(backend):
    G = MLPImageGenerator(4, (1, 6, 6), hidden=(16,))
    D = MLPImageDiscriminator((1, 6, 6), hidden=(16,))
    imgs = G(tinygan.randn(3, 4))
    assert imgs.shape == (3, 1, 6, 6)
    assert D(imgs).shape == (3, 1)


@pytest.mark.parametrize("bad", [
    lambda: MLPGenerator(0, 2),
    lambda: MLPGenerator(2, 2, hidden=(4, -1)),
    lambda: MLPDiscriminator(2, activation="swish"),
    lambda: MLPImageGenerator(2, (28, 28)),
    lambda: DCGANGenerator(img_size=48),
    lambda: DCGANDiscriminator(img_channels=0),
    lambda: DCGANDiscriminator(dropout=1.0),
    lambda: MLPDiscriminator(2, dropout=-0.1),
])
def test_bad_arguments_raise_clear_errors(bad):
    with pytest.raises(ValueError, match="(MLP|DCGAN)"):
        bad()


@pytest.mark.parametrize("size,first_map", [(28, 7), (32, 4), (64, 4)])
def test_dcgan_shapes_and_five_rules(size, first_map):
    G = DCGANGenerator(z_dim=5, img_channels=3, img_size=size, ngf=2)
    D = DCGANDiscriminator(img_channels=3, img_size=size, ndf=2)
    z = tinygan.randn(2, 5, 1, 1)
    x = G(z)
    assert x.shape == (2, 3, size, size)
    assert G(tinygan.randn(2, 5)).shape == (2, 3, size, size)  # (N, z) noise accepted too
    assert D(x).shape == (2, 1)
    kinds_g, kinds_d = _kinds(G), _kinds(D)
    # rule 3: no fully connected layer anywhere; rule 1: (transposed) convolutions only
    assert "Linear" not in kinds_g and "Linear" not in kinds_d
    convs_g = [m for m in _layers(G) if isinstance(m, nn.ConvTranspose2d)]
    assert convs_g[0].kernel_size in (first_map, (first_map, first_map))
    assert all(m.stride in (2, (2, 2)) for m in convs_g[1:])
    convs_d = [m for m in _layers(D) if isinstance(m, nn.Conv2d)]
    assert all(m.stride in (2, (2, 2)) for m in convs_d[:-1])
    # rule 2: BN after every G layer but the output; in D after every layer but the input
    assert kinds_g.count("BatchNorm2d") == len(convs_g) - 1
    assert kinds_g[-2:] == ["ConvTranspose2d", "Tanh"]          # rule 4: Tanh output
    assert set(kinds_g) - {"ConvTranspose2d", "BatchNorm2d", "Tanh"} == {"ReLU"}
    assert kinds_d[:2] == ["Conv2d", "LeakyReLU"]                # no BN on D's input layer
    assert kinds_d.count("BatchNorm2d") == len(convs_d) - 2      # not on input, not on the logit
    assert {m.negative_slope for m in _layers(D) if isinstance(m, nn.LeakyReLU)} == {0.2}
    assert "ReLU" not in kinds_d and "Sigmoid" not in kinds_d    # rule 5, logits out


def test_dcgan_28_goes_7_14_28():
    G = DCGANGenerator(z_dim=4, img_channels=1, img_size=28, ngf=2)
    x = tinygan.randn(1, 4, 1, 1)
    sizes = []
    for m in G:
        x = m(x)
        if isinstance(m, nn.ConvTranspose2d):
            sizes.append(x.shape[-1])
    assert sizes == [7, 14, 28]


def test_wgan_gp_critic_has_no_batch_norm():
    D = DCGANDiscriminator(1, 28, ndf=2, batch_norm=False)
    assert "BatchNorm2d" not in _kinds(D)
    assert D(tinygan.randn(2, 1, 28, 28)).shape == (2, 1)


def test_discriminator_dropout_follows_every_activation_and_adds_no_weights():
    B.manual_seed(0)
    plain = DCGANDiscriminator(1, 28, ndf=2)
    B.manual_seed(0)
    dropped = DCGANDiscriminator(1, 28, ndf=2, dropout=0.3)
    assert _kinds(dropped) == ["Conv2d", "LeakyReLU", "Dropout", "Conv2d", "BatchNorm2d",
                               "LeakyReLU", "Dropout", "Conv2d", "Flatten"]
    # the same weights from the same seed (a Dropout draws nothing at construction) ...
    a, b = plain.state_dict(), dropped.state_dict()
    assert list(a) != list(b) and len(a) == len(b)   # indices shift, nothing is added
    for (ka, va), (kb, vb) in zip(a.items(), b.items()):
        assert np.array_equal(B.to_numpy(va), B.to_numpy(vb)), (ka, kb)
    # ... so in eval mode, where dropout is the identity, the same scores
    x = tinygan.randn(3, 1, 28, 28)
    plain.eval(), dropped.eval()
    assert np.array_equal(B.to_numpy(plain(x).data), B.to_numpy(dropped(x).data))
    mlp = MLPImageDiscriminator((1, 28, 28), (8, 8), dropout=0.5)
    assert _kinds(mlp).count("Dropout") == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dcgan_init_is_normal_0_02(seed):
    tinygan.manual_seed(seed)
    G = DCGANGenerator(z_dim=100, img_channels=1, img_size=28, ngf=32)
    w = np.concatenate([B.to_numpy(m.weight.data).ravel() for m in _layers(G)
                        if isinstance(m, nn.ConvTranspose2d)])
    # 346,880 weights; observed |std − 0.02| ≤ 3.5e-5 and |mean| ≤ 3.6e-5 over seeds 0-2
    assert abs(w.std() - 0.02) < 0.001 and abs(w.mean()) < 0.001
    gammas = np.concatenate([B.to_numpy(m.weight.data) for m in _layers(G)
                             if isinstance(m, nn.BatchNorm2d)])
    # 96 scales: observed |mean − 1| = 0.0026 / 0.0001 / 0.0005 and std 0.0209 / 0.0226 /
    # 0.0206 for seeds 0 / 1 / 2 (>= 3.8x inside both bounds)
    assert abs(gammas.mean() - 1.0) < 0.01 and 0.01 < gammas.std() < 0.03


def test_dcgan_backward_on_both_backends(backend):
    G = DCGANGenerator(z_dim=3, img_channels=1, img_size=28, ngf=2)
    D = DCGANDiscriminator(1, 28, ndf=2)
    D(G(tinygan.randn(2, 3, 1, 1))).sum().backward()
    for p in list(G.parameters()) + list(D.parameters()):
        assert p.grad.shape == p.shape and np.isfinite(B.to_numpy(p.grad.data)).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dcgan_gradients_match_finite_differences(backend, float64, seed):
    tinygan.manual_seed(seed)
    G = DCGANGenerator(z_dim=3, img_channels=1, img_size=28, ngf=2)
    D = DCGANDiscriminator(1, 28, ndf=2)
    z = tinygan.randn(2, 3, 1, 1)
    _directional_derivative_matches(lambda: (D(G(z)) ** 2).sum(),
                                    list(G.parameters()) + list(D.parameters()))


def test_dcgan_rejects_wrong_input_shapes():
    with pytest.raises(ValueError, match="DCGANDiscriminator.*expected images"):
        DCGANDiscriminator(1, 28, ndf=2)(tinygan.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match="DCGANGenerator.*noise"):
        DCGANGenerator(z_dim=3, img_size=28, ngf=2)(tinygan.randn(2, 4))
