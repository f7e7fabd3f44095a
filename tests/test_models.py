"""Unit tests of the model registry, configs and the four models (tiny inputs, CPU)."""

import itertools

import numpy as np
import pytest
import torch

from artificial_genomes import models
from artificial_genomes.errors import InputError
from artificial_genomes.models.gan import GAN, layer_sizes
from artificial_genomes.models.rbm import RBM, bernoulli, free_energy


def _haplotypes(n=64, m=10, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, m)) < rng.uniform(0.1, 0.9, m)).astype(np.int8)


# --- configs -------------------------------------------------------------------------------


def test_defaults_are_the_published_settings():
    gan = models.make_config("gan", {})
    assert (gan.latent_size, gan.batch_size) == (600, 32)
    assert (gan.g_learning_rate, gan.d_learning_rate, gan.l2_penalty) == (1e-4, 8e-4, 1e-4)
    assert (gan.negative_slope, gan.label_smoothing, gan.input_jitter) == (0.01, 0.1, 0.1)
    rbm = models.make_config("rbm", None)
    assert (rbm.n_chains, rbm.learning_rate, rbm.batch_size) == (500, 0.01, 32)
    assert rbm.weight_std == 0.01
    assert set(models.REGISTRY) == {"gan", "rbm", "independent", "copy", "mosaic"}


def test_settings_override_and_convert():
    cfg = models.make_config("gan", {"epochs": 5, "g_learning_rate": "1e-3", "batch_size": 16.0})
    assert cfg.epochs == 5 and cfg.g_learning_rate == 0.001 and cfg.batch_size == 16
    assert isinstance(cfg.batch_size, int)


@pytest.mark.parametrize(
    ("name", "settings", "named"),
    [
        ("gan", {"epoch": 3}, "'epoch'"),
        ("gan", {"epochs": -1}, "'epochs'"),
        ("gan", {"batch_size": 2.5}, "'batch_size'"),
        ("gan", {"batch_size": True}, "'batch_size'"),
        ("gan", {"d_learning_rate": 0}, "'d_learning_rate'"),
        ("gan", {"label_smoothing": 1.0}, "'label_smoothing'"),
        ("rbm", {"n_hidden": "many"}, "'n_hidden'"),
        ("rbm", {"gibbs_steps": None}, "'gibbs_steps'"),
        ("copy", {"epochs": 10}, "'epochs'"),
        ("vae", {}, "'vae'"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(name, settings, named):
    with pytest.raises(InputError, match=named):
        models.make_config(name, settings)


def test_max_memory_may_be_null():
    assert models.make_config("rbm", {"max_memory_gb": None}).max_memory_gb is None


# --- GAN -----------------------------------------------------------------------------------


def test_gan_layer_sizes_for_805_snps():
    gen, disc = layer_sizes(models.make_config("gan", {}), 805)
    assert gen == [600, 670, 731, 805]
    assert disc == [805, 402, 268, 1]


def test_gan_l2_only_on_hidden_weights_and_shapes():
    torch.manual_seed(0)
    cfg = models.make_config("gan", {"batch_size": 8, "latent_size": 6})
    gan = GAN(cfg, 12)
    gan.prepare(_haplotypes(40, 12), seed=0, device=torch.device("cpu"))
    decayed = gan.opt_g.param_groups[0]
    assert decayed["weight_decay"] == pytest.approx(2e-4)  # gradient of 1e-4 * sum(w^2)
    assert [p.shape for p in decayed["params"]] == [(10, 6), (10, 10)]
    assert gan.opt_g.param_groups[1]["weight_decay"] == 0.0
    assert [p.shape for p in gan.opt_d.param_groups[0]["params"]] == [(6, 12), (4, 6)]
    # shuffled once and jittered down by less than 0.1: rounding gives back the training rows
    data = gan._data.numpy()
    assert np.all((data <= 1) & (data > -0.1))
    rows = sorted(np.rint(data).astype(np.int8).tolist())
    assert rows == sorted(_haplotypes(40, 12).tolist())
    losses = gan.train_epoch(torch.Generator().manual_seed(0))
    assert losses.shape == (2,) and torch.isfinite(losses).all()
    sample = gan.sample(7, torch.Generator().manual_seed(1))
    assert sample.dtype == torch.int8 and sample.shape == (7, 12)
    assert set(sample.unique().tolist()) <= {0, 1}


def test_gan_refuses_fewer_haplotypes_than_a_batch():
    gan = GAN(models.make_config("gan", {"latent_size": 4}), 5)
    with pytest.raises(InputError, match="batch_size=32"):
        gan.prepare(_haplotypes(20, 5), 0, torch.device("cpu"))


# --- RBM -----------------------------------------------------------------------------------


def test_rbm_visible_bias_starts_at_logit_of_frequency():
    hap = np.zeros((40, 3), dtype=np.int8)
    hap[:10, 0] = 1  # p = 0.25
    hap[:, 1] = 1  # p = 1, clipped to 1 - 1e-5
    rbm = RBM(models.make_config("rbm", {"n_hidden": 4, "n_chains": 6}), 3)
    rbm.prepare(hap, seed=0, device=torch.device("cpu"))
    expected = [np.log(0.25 / 0.75), np.log((1 - 1e-5) / 1e-5), np.log(1e-5 / (1 - 1e-5))]
    assert rbm.visible_bias.numpy() == pytest.approx(expected, rel=1e-6)
    assert rbm.hidden_bias.abs().sum() == 0
    assert rbm._chains.shape == (6, 3)


def test_free_energy_matches_brute_force_sum_over_hidden_states():
    torch.manual_seed(0)
    w = torch.randn(4, 3, dtype=torch.float64)
    b, c = torch.randn(4, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    v = torch.tensor([[1.0, 0, 1, 1], [0, 0, 0, 0]], dtype=torch.float64)
    got = free_energy(v @ w + c, v, b)
    for row, vi in enumerate(v):
        total = 0.0
        for h in itertools.product([0.0, 1.0], repeat=3):
            h = torch.tensor(h, dtype=torch.float64)
            total += torch.exp(vi @ b + h @ c + vi @ w @ h)
        assert got[row].item() == pytest.approx(-np.log(total.item()), rel=1e-10)


def test_bernoulli_helper_frequencies():
    p = torch.tensor([0.0, 0.2, 0.9, 1.0]).expand(20000, 4).contiguous()
    draws = bernoulli(p, torch.Generator().manual_seed(0))
    assert draws.mean(0).tolist() == pytest.approx([0.0, 0.2, 0.9, 1.0], abs=0.01)


def test_rbm_learns_two_haplotype_clusters():
    hap = np.repeat(np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=np.int8), 32, axis=0)
    torch.manual_seed(0)
    cfg = models.make_config(
        "rbm", {"n_hidden": 4, "n_chains": 64, "batch_size": 16, "learning_rate": 0.1}
    )
    rbm = RBM(cfg, 6)
    rbm.prepare(hap, seed=0, device=torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    first = rbm.train_epoch(gen)
    for _ in range(300):
        last = rbm.train_epoch(gen)
    assert last[1] < first[1]  # reconstruction error falls
    assert last[2] > first[2]  # pseudo-log-likelihood rises
    sample = rbm.sample(200, gen, steps=50).numpy()
    is_pattern = (sample == hap[0]).all(1) | (sample == hap[-1]).all(1)
    assert is_pattern.mean() > 0.8


# --- baselines -----------------------------------------------------------------------------


def test_independent_baseline_reproduces_training_frequencies():
    hap = _haplotypes(200, 8)
    model = models.REGISTRY["independent"](models.make_config("independent", {}), 8)
    model.prepare(hap, 0, torch.device("cpu"))
    assert model.frequencies.numpy() == pytest.approx(hap.mean(0))
    sample = model.sample(20000, torch.Generator().manual_seed(0)).numpy()
    assert sample.dtype == np.int8
    assert np.abs(sample.mean(0) - hap.mean(0)).max() < 0.015


def test_copy_baseline_draws_training_rows_and_reloads():
    hap = _haplotypes(30, 8)
    model = models.REGISTRY["copy"](models.make_config("copy", {}), 8)
    model.prepare(hap, 0, torch.device("cpu"))
    sample = model.sample(50, torch.Generator().manual_seed(0)).numpy()
    training_rows = {row.tobytes() for row in hap}
    assert all(row.tobytes() in training_rows for row in sample)
    fresh = models.REGISTRY["copy"](models.make_config("copy", {}), 8)
    fresh.load_state_dict(model.state_dict())
    assert np.array_equal(fresh.haplotypes.numpy(), hap)
