"""The recipes (default and paper) and the options the defaults use: the moving average of
G's weights, the linear learning-rate decay, separate G/D rates, and what a run reports."""
import dataclasses
import json
import os

import numpy as np
import pytest

from tinygan import nn, optim
from tinygan.autograd import Tensor
from tinygan.gan.averaging import GeneratorEMA, after_each_step
from tinygan.gan.loops import linear_decay
from tinygan.gan.checkpoint import load_checkpoint
from tinygan.gan.config import (IMAGE_DATA, IMAGE_RECIPES, PAPER_DEFAULTS, TOY_DATA_RECIPES,
                                TOY_RECIPES, ConfigError, data_defaults, make_config)
from tinygan.gan.factory import build_models, build_optimizer
from tinygan.gan.sample import sample_to_file
from tinygan.gan.train import train

TINY = dict(hidden=(16, 16), batch_size=16, n_samples=200, sample_every=0, log_every=1,
            checkpoint_every=2, progress=False, figures=False)


def _strict_json(path):
    def refuse(name):
        raise AssertionError(f"{path} holds {name}, which is not JSON")
    with open(path) as f:
        return json.load(f, parse_constant=refuse)


# ---------------------------------------------------------------- the moving average
def test_ema_is_the_closed_form_average_after_three_steps():
    G = nn.Linear(3, 2)
    theta = [np.array(p.data, dtype=np.float64) for p in G.parameters()]
    beta = 0.9
    ema = GeneratorEMA(G, beta)
    history = [theta]
    rng = np.random.default_rng(0)
    start = 100  # past the warm-up: (1 + t) / (10 + t) > 0.9 from t = 80 on
    for t in range(start, start + 3):  # three "steps": new weights, then the average follows
        for p in G.parameters():
            p.data[...] = rng.standard_normal(p.data.shape).astype(p.data.dtype)
        history.append([np.array(p.data, dtype=np.float64) for p in G.parameters()])
        assert ema.decay_at(t) == beta
        ema.update(G, t)
    t0, t1, t2, t3 = history
    for i, avg in enumerate(ema.model.parameters()):
        # θ_EMA = β³θ0 + (1−β)(β²θ1 + βθ2 + θ3)
        expected = beta**3 * t0[i] + (1 - beta) * (beta**2 * t1[i] + beta * t2[i] + t3[i])
        np.testing.assert_allclose(avg.data, expected, rtol=1e-6, atol=1e-7)
    # the average is a copy: G's own weights are the last step's
    for p, last in zip(G.parameters(), t3):
        np.testing.assert_array_equal(p.data, last.astype(p.data.dtype))


def test_ema_warm_up_forgets_the_random_start():
    """β_t = min(β, (1 + t)/(10 + t)): after n updates from step 0 the initial weights θ_0
    keep Π β_t = Π (1 + t)/(10 + t) = 9!·n!/(n + 9)! of the average (≈ 3.6e-7 at n = 100),
    where a constant β = 0.999 would keep 0.999^100 ≈ 0.905."""
    G = nn.Linear(1, 1, bias=False)
    G.weight.data[...] = 1.0                 # θ_0 = 1
    ema = GeneratorEMA(G, 0.999)
    G.weight.data[...] = 0.0                 # every later θ_t = 0
    n = 100
    for t in range(n):
        ema.update(G, t)
    kept = float(ema.model.weight.data.reshape(-1)[0])
    expected = float(np.prod([(1 + t) / (10 + t) for t in range(n)]))
    assert kept == pytest.approx(expected, rel=1e-4)
    assert kept < 1e-6  # observed 3.6e-7; without the warm-up it would be 0.905
    assert [ema.decay_at(t) for t in (0, 1, 90, 10_000)] == pytest.approx(
        [0.1, 2 / 11, 91 / 100, 0.999])


class _TinyBNGenerator(nn.Sequential):
    """z (3) → Linear → BatchNorm1d (4): a generator whose batch norm an average must re-measure."""

    def __init__(self):
        super().__init__(nn.Linear(3, 4), nn.BatchNorm1d(4))

    def noise_shape(self, n):
        return (n, 3)


def test_ema_measures_its_own_batch_norm_statistics_and_refuses_a_bad_decay():
    """The average's running statistics are those of its own pre-norm activations on the
    fixed noise (closed form below), not G's; G's are untouched, and an update makes the
    average measure them again before it is next sampled."""
    from tinygan.gan.averaging import STATS_BATCH, STATS_SAMPLES, STATS_SEED_TAG
    G = _TinyBNGenerator()
    ema = GeneratorEMA(G, 0.5)
    rng = np.random.default_rng(1)
    G.train()
    G(Tensor(rng.standard_normal((8, 3)).astype(np.float32)))  # G's statistics: its own data
    g_stats = [np.array(b.data) for b in G.buffers()]
    for p in G.parameters():
        p.data[...] = rng.standard_normal(p.data.shape).astype(p.data.dtype)
    ema.update(G, 5)  # β_5 = 6/15: the average is 0.4 θ_0 + 0.6 θ
    model = ema.sampler()
    assert model is ema.model and not model.training
    W = np.asarray(model[0].weight.data, np.float64)
    b = np.asarray(model[0].bias.data, np.float64)
    z = np.random.default_rng(STATS_SEED_TAG).standard_normal((STATS_SAMPLES, 3))
    h = (z.astype(np.float32).astype(np.float64) @ W.T + b).reshape(-1, STATS_BATCH, 4)
    bn = model[1]
    np.testing.assert_allclose(bn.running_mean.data, h.mean(axis=(0, 1)), rtol=1e-5, atol=1e-6)
    # the cumulative average of each batch's unbiased variance (momentum None)
    np.testing.assert_allclose(bn.running_var.data, h.var(axis=1, ddof=1).mean(axis=0),
                               rtol=1e-5)
    assert bn.momentum == 0.1  # restored
    for kept, b_now in zip(g_stats, G.buffers()):
        np.testing.assert_array_equal(kept, b_now.data)
    assert not np.allclose(bn.running_mean.data, G[1].running_mean.data)
    # the checkpointed state holds the measured statistics; an update makes them stale
    saved = np.array(ema.state_dict()["1.running_mean"])
    np.testing.assert_array_equal(saved, bn.running_mean.data)
    ema.update(G, 6)
    np.testing.assert_array_equal(bn.running_mean.data, saved)  # measured when next needed
    assert not np.array_equal(ema.sampler()[1].running_mean.data, saved)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="decay"):
            GeneratorEMA(G, bad)
    with pytest.raises(ConfigError, match="--ema"):
        make_config("gan", ema=1.0)


# ---------------------------------------------------------------- the learning-rate decay
def test_linear_lr_decays_linearly_to_exactly_zero():
    lr = linear_decay(1e-3, 8)
    assert [lr(t) for t in range(9)] == pytest.approx([1e-3 * (1 - t / 8) for t in range(9)],
                                                      rel=1e-15)
    assert lr(8) == 0.0 and lr(20) == 0.0


def test_after_each_step_sets_both_rates_per_step_and_ends_at_zero():
    p, q = Tensor(np.zeros(1, np.float32)), Tensor(np.zeros(1, np.float32))
    opt_g, opt_d = optim.Adam([p], lr=1.0), optim.Adam([q], lr=1.0)
    seen = []

    def records():  # a loop: it reads the rate its step uses
        for _ in range(4):
            seen.append((opt_g.param_groups[0]["lr"], opt_d.param_groups[0]["lr"]))
            yield {}
    out = list(after_each_step(records(), start=0, steps=4,
                               optimizers=[(opt_g, 2e-3), (opt_d, 8e-3)]))
    fractions = (1, 0.75, 0.5, 0.25)
    assert [g for g, _ in seen] == pytest.approx([2e-3 * f for f in fractions])
    assert [d for _, d in seen] == pytest.approx([8e-3 * f for f in fractions])
    assert [r["lr"] for r in out] == pytest.approx([2e-3, 1.5e-3, 1e-3, 5e-4])
    assert opt_g.param_groups[0]["lr"] == 0.0 and opt_d.param_groups[0]["lr"] == 0.0
    # resumed at step 2: the schedule continues where it stopped
    seen.clear()
    list(after_each_step(records(), start=2, steps=6, optimizers=[(opt_g, 2e-3)]))
    assert seen[0][0] == pytest.approx(2e-3 * (1 - 2 / 6))


def test_a_run_with_lr_decay_ends_at_zero_and_logs_the_rate(tmp_path):
    cfg = make_config("gan", data="ring8", steps=4, lr=1e-3, lr_decay="linear",
                      out=str(tmp_path / "r"), **TINY)
    train(cfg)
    ckpt = load_checkpoint(str(tmp_path / "r" / "checkpoint.npz"))
    assert all(g["lr"] == 0.0 for g in ckpt["opt_g"]["param_groups"])
    assert all(g["lr"] == 0.0 for g in ckpt["opt_d"]["param_groups"])
    with open(tmp_path / "r" / "metrics.jsonl") as f:
        lrs = [json.loads(line)["lr"] for line in f]
    assert lrs == pytest.approx([1e-3, 7.5e-4, 5e-4, 2.5e-4])


# ---------------------------------------------------------------- separate G/D rates
def test_lr_d_gives_the_discriminator_its_own_rate():
    cfg = make_config("gan", data="ring8", optimizer="adam", lr=1e-4, lr_d=4e-4)
    G, D = build_models(cfg, (2,))
    assert build_optimizer(cfg, G.parameters()).param_groups[0]["lr"] == 1e-4
    assert build_optimizer(cfg, D.parameters(), cfg.lr_of_d).param_groups[0]["lr"] == 4e-4
    assert make_config("gan", data="ring8", lr=3e-4).lr_of_d == 3e-4  # one rate unless given


# ---------------------------------------------------------------- the recipes
@pytest.mark.parametrize("model", ["gan", "dcgan", "wgan", "wgan-gp"])
@pytest.mark.parametrize("data", ["ring8", "grid25", "mnist"])
def test_paper_recipe_is_exactly_the_papers_settings(model, data):
    if model == "dcgan" and data != "mnist":
        return
    cfg = make_config(model, data=data, recipe="paper")
    expected = dict(PAPER_DEFAULTS[model], **data_defaults(model, data))
    for key, value in expected.items():
        assert getattr(cfg, key) == value, key
    assert cfg.ema == 0.0 and cfg.lr_decay == "none" and cfg.lr_d is None


@pytest.mark.parametrize("model", ["gan", "wgan", "wgan-gp"])
@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_toy_defaults_resolve_to_the_default_recipe(model, data):
    cfg = make_config(model, data=data)
    assert cfg.recipe == "default"
    for key, value in dict(TOY_RECIPES[model], **TOY_DATA_RECIPES.get((model, data), {})).items():
        assert getattr(cfg, key) == value, key
    if model == "wgan":
        assert cfg.clip == 0.01  # the method keeps its weight clipping
        assert (cfg.lr, cfg.lr_of_d) == (5e-4, 5e-5)  # the critic at the paper's rate
    if model == "wgan-gp":
        assert cfg.gp_lambda > 0  # and its two-sided penalty


@pytest.mark.parametrize("data,metric", [("grid25", "modes_strict"),
                                         ("swissroll", "segments_strict"),
                                         ("gaussian1d", "wasserstein1")])
@pytest.mark.parametrize("model,extra", [("gan", {}), ("gan", {"instance_noise": True}),
                                         ("wgan", {"critic_warmup": False}), ("wgan-gp", {})])
def test_a_few_steps_of_each_toy_default_run(tmp_path, model, extra, data, metric):
    """The default architecture and recipe, three steps: the loss is finite and the summary
    reports the data's metrics (modes, segments of the curve, W1) and the times, as strict
    JSON."""
    out = str(tmp_path / "r")
    cfg = make_config(model, data=data, steps=3, out=out, n_samples=300, progress=False,
                      figures=False, sample_every=0, **extra)
    summary = train(cfg)
    saved = _strict_json(os.path.join(out, "summary.json"))
    assert metric in saved["metrics"]
    assert saved["cpu_s"] > 0 and saved["wall_s"] > 0 and saved["steps"] == 3
    assert summary["sampled_from"] == ("G_ema" if cfg.ema else "G")


def test_unknown_recipe_and_old_checkpoints(tmp_path):
    with pytest.raises(ConfigError, match="recipe"):
        make_config("gan", recipe="fast")
    from tinygan.gan.config import TrainConfig
    # a config saved before recipes existed was trained on the papers' settings
    assert TrainConfig.from_dict({"model": "gan"}).recipe == "paper"


@pytest.mark.parametrize("data", IMAGE_DATA)
def test_image_defaults_resolve_to_the_image_recipe(data):
    cfg = make_config("dcgan", data=data)
    for key, value in IMAGE_RECIPES["dcgan"].items():
        assert getattr(cfg, key) == value, key
    assert (cfg.batch_size, cfg.steps) == (32, 2500)  # 10 epochs of the 8,000-digit subset
    assert (cfg.lr, cfg.lr_of_d) == (1.6e-3, 8e-4)    # TTUR: G at twice D's rate
    assert cfg.ema == 0.999                            # samples from the moving average
    assert cfg.betas == (0.5, 0.99)                    # Adam's β2: the last ≈ 100 steps
    paper = make_config("dcgan", data=data, recipe="paper")
    assert (paper.batch_size, paper.lr, paper.betas) == (128, 2e-4, (0.5, 0.999))
    assert (cfg.ngf, cfg.ndf) == (paper.ngf, paper.ndf) == (64, 64)  # Radford et al.'s
    wgan, wgan_paper = make_config("wgan", data=data), make_config("wgan", data=data,
                                                                    recipe="paper")
    # WGAN keeps the paper's method and minibatch, at half width and a faster RMSProp
    assert (wgan.optimizer, wgan.clip, wgan.n_critic, wgan.critic_warmup) == \
        ("rmsprop", 0.01, 5, True)
    assert (wgan.batch_size, wgan.ngf, wgan.ndf, wgan.lr, wgan.steps) == (64, 32, 32, 4e-4, 2500)
    assert (wgan_paper.ngf, wgan_paper.lr, wgan_paper.steps) == (64, 5e-5, 2000)
    gp, gp_paper = make_config("wgan-gp", data=data), make_config("wgan-gp", data=data,
                                                                  recipe="paper")
    assert (gp.ngf, gp.ndf, gp.steps) == (32, 32, 2500)   # half width, 2,500 steps
    assert (gp_paper.ngf, gp_paper.ndf, gp_paper.steps) == (64, 64, 2000)
    assert (gp.lr, gp.betas, gp.gp_lambda, gp.n_critic) == (1e-4, (0.5, 0.9), 10.0, 5)
    assert make_config("wgan-gp", data=data, ngf=48).ngf == 48  # an option still wins
    # the plain GAN keeps Goodfellow et al.'s MLPs and takes DCGAN's optimiser recipe for
    # 20 epochs; its paper recipe is their SGD
    gan, gan_paper = make_config("gan", data=data), make_config("gan", data=data,
                                                                recipe="paper")
    assert (gan.arch, gan.hidden, gan.optimizer, gan.batch_size, gan.steps) == \
        ("mlp", (1200, 1200), "adam", 32, 5000)
    assert (gan.lr, gan.lr_of_d, gan.betas, gan.ema) == (8e-4, 4e-4, (0.5, 0.99), 0.999)
    assert (gan_paper.optimizer, gan_paper.lr, gan_paper.momentum, gan_paper.batch_size) == \
        ("sgd", 0.1, 0.5, 100)


# ---------------------------------------------------------------- what a run reports
def test_summary_writes_null_for_nan_and_sample_uses_the_moving_average(tmp_path):
    out = str(tmp_path / "r")
    cfg = make_config("gan", data="ring8", steps=3, ema=0.5, out=out, **TINY)
    train(cfg)
    saved = _strict_json(os.path.join(out, "summary.json"))
    # 3 steps of a 16-wide net: no sample is within 3σ of a mode, so KL is undefined
    assert saved["metrics"]["high_quality"] == 0.0 and saved["metrics"]["kl"] is None
    assert saved["sampled_from"] == "G_ema"
    # `tinygan sample` draws from the average, as the run itself did (same seed: same noise)
    npy = str(tmp_path / "s.npy")
    sample_to_file(out, cfg.n_samples, npy, seed=cfg.seed)
    np.testing.assert_array_equal(np.load(npy), np.load(os.path.join(out, "samples.npy")))
    ckpt = load_checkpoint(os.path.join(out, "checkpoint.npz"))
    assert any(not np.array_equal(ckpt["G"][k], ckpt["G_ema"][k]) for k in ckpt["G"])


# ---------------------------------------------------------------- DCGAN's first layer
@pytest.mark.parametrize("size", [28, 32])
def test_dcgan_generator_with_a_linear_first_layer(size):
    from tinygan.gan.models import DCGANGenerator
    G = DCGANGenerator(z_dim=8, img_channels=1, img_size=size, ngf=4, first_layer="linear")
    names = [type(m).__name__ for m in G.children()]
    assert names[:5] == ["Flatten", "Linear", "BatchNorm1d", "ReLU", "Unflatten"]
    z = Tensor(np.random.default_rng(0).standard_normal((5, 8, 1, 1)).astype(np.float32))
    x = G(z)
    assert x.shape == (5, 1, size, size)
    x.sum().backward()
    assert all(p.grad is not None for p in G.parameters())
    with pytest.raises(ValueError, match="first_layer"):
        DCGANGenerator(z_dim=8, first_layer="dense")
    with pytest.raises(ConfigError, match="--g-first-layer applies only"):
        from tinygan.gan.config import check_applicable
        check_applicable(make_config("gan", data="ring8", g_first_layer="linear"),
                         ["g_first_layer"])


def test_bare_instance_noise_flag_and_the_recipe_option_parse():
    from tinygan.cli import build_parser, config_from_args
    from tinygan.gan.config import resolve
    args = build_parser().parse_args(["train", "gan", "--instance-noise", "--recipe", "paper",
                                      "--lr-d", "4e-4", "--lr-decay", "linear", "--ema", "0.99"])
    cfg = config_from_args(args)
    assert cfg.instance_noise is True and cfg.recipe == "paper"   # the data's σ0, once known
    assert resolve(cfg).instance_noise == 0.3                       # ring8, the default data
    assert (cfg.lr_d, cfg.lr_decay, cfg.ema) == (4e-4, "linear", 0.99)
    on_grid = build_parser().parse_args(["train", "gan", "--data", "grid25", "--instance-noise"])
    assert resolve(config_from_args(on_grid)).instance_noise == 0.5
    given = build_parser().parse_args(["train", "gan", "--data", "grid25", "--instance-noise",
                                       "0.3"])
    assert resolve(config_from_args(given)).instance_noise == 0.3  # a given σ0 is kept


@pytest.mark.parametrize("data,sigma0", [("ring8", 0.3), ("grid25", 0.5), ("swissroll", 0.2),
                                          ("mnist", 0.2)])
def test_instance_noise_true_is_the_data_sigma0(data, sigma0):
    model = "dcgan" if data == "mnist" else "gan"
    cfg = make_config(model, data=data, instance_noise=True)
    assert cfg.instance_noise == sigma0 and not isinstance(cfg.instance_noise, bool)
    assert make_config(model, data=data).instance_noise == 0.0  # off unless asked for


@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_the_toy_gan_with_instance_noise_keeps_beta2_0999_and_its_own_length(data):
    # the plain toy GAN: Adam's β2 = 0.99 for 10,000 steps (8,000 on grid25,
    # config.TOY_DATA_RECIPES); with instance noise the recipe it was measured on, β2 =
    # 0.999 for 6,000 (config.TOY_INSTANCE_NOISE_RECIPES), 10,000 on grid25
    # (config.TOY_INSTANCE_NOISE_DATA_RECIPES)
    plain = make_config("gan", data=data)
    assert (plain.betas, plain.steps) == ((0.5, 0.99), {"ring8": 10000, "grid25": 8000}[data])
    noisy = make_config("gan", data=data, instance_noise=True)
    assert (noisy.betas, noisy.steps, noisy.lr) == \
        ((0.5, 0.999), {"ring8": 6000, "grid25": 10000}[data], plain.lr)
    assert make_config("gan", data=data, instance_noise=0.2).steps == noisy.steps  # any σ0
    given = make_config("gan", data=data, instance_noise=True, betas=(0.5, 0.9), steps=7)
    assert (given.betas, given.steps) == ((0.5, 0.9), 7)  # given options win
    assert make_config("gan", data=data, recipe="paper", instance_noise=True).steps == \
        make_config("gan", data=data, recipe="paper").steps


@pytest.mark.parametrize("data", ["ring8", "grid25"])
def test_the_toy_gan_with_instance_noise_keeps_relu_in_d(data):
    # LeakyReLU in D is the plain toy GAN's default, ReLU its default with instance noise
    # (config.TOY_INSTANCE_NOISE_RECIPES); a given --d-activation wins over both
    assert make_config("gan", data=data).d_activation == "leaky_relu"
    assert make_config("gan", data=data, instance_noise=True).d_activation == "relu"
    assert make_config("gan", data=data, instance_noise=0.1).d_activation == "relu"
    given = make_config("gan", data=data, instance_noise=True, d_activation="leaky_relu")
    assert given.d_activation == "leaky_relu"
    assert make_config("gan", data=data, recipe="paper", instance_noise=True,
                       ).d_activation == "relu"            # the paper's toy D: ReLU either way
    # images keep their own default, noise or not; so does the 1-D Gaussian
    # (config.TOY_INSTANCE_NOISE_DATA_RECIPES), where ReLU's D went flat with noise
    assert make_config("gan", data="mnist", instance_noise=True).d_activation == "leaky_relu"
    one_d = make_config("gan", data="gaussian1d", instance_noise=True)
    assert (one_d.d_activation, one_d.betas, one_d.steps) == ("leaky_relu", (0.5, 0.999), 6000)


def test_a_given_lr_sets_both_rates_unless_lr_d_is_given_too():
    # DCGAN's default recipe has separate rates; --lr alone must still mean "both", as its
    # help says, and --lr-d keeps its own meaning beside it
    assert make_config("dcgan", data="mnist", lr=1e-4).lr_of_d == 1e-4
    both = make_config("dcgan", data="mnist", lr=1e-4, lr_d=3e-4)
    assert (both.lr, both.lr_of_d) == (1e-4, 3e-4)
    only_d = make_config("dcgan", data="mnist", lr_d=3e-4)
    assert (only_d.lr, only_d.lr_of_d) == (IMAGE_RECIPES["dcgan"]["lr"], 3e-4)


def test_a_resumed_run_reads_the_bare_instance_noise_flag_on_its_saved_data():
    from tinygan.gan.checkpoint import merge_resume
    from tinygan.gan.config import TrainConfig
    saved = make_config("gan", data="grid25", instance_noise=True)   # σ0 0.5

    def given(sigma0):
        cfg = TrainConfig(model="gan", instance_noise=sigma0)      # no --data on resume
        cfg.extra = {"explicit": ["instance_noise"]}
        return cfg
    assert merge_resume(dataclasses.replace(saved), given(True)).instance_noise == 0.5
    with pytest.raises(ConfigError, match="instance_noise = 0.3 differs"):
        merge_resume(dataclasses.replace(saved), given(0.3))
