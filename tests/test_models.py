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


def test_gan_ema_generator_is_the_running_average_and_draws_the_ags():
    torch.manual_seed(0)
    cfg = models.make_config("gan", {"batch_size": 8, "latent_size": 6, "ema_decay": 0.9})
    gan = GAN(cfg, 12)
    gan.prepare(_haplotypes(16, 12), seed=0, device=torch.device("cpu"))  # 2 steps per epoch
    start = [p.detach().clone() for p in gan.generator.parameters()]
    assert all(torch.equal(a, p) for a, p in zip(gan.generator_ema.parameters(), start))
    steps = []
    original_step = gan._step_g

    def step_and_record():
        original_step()
        steps.append([p.detach().clone() for p in gan.generator.parameters()])

    gan._step_g = step_and_record
    gan.train_epoch(torch.Generator().manual_seed(0))
    assert len(steps) == 2
    for i, averaged in enumerate(gan.generator_ema.parameters()):
        expected = 0.9 * (0.9 * start[i] + 0.1 * steps[0][i]) + 0.1 * steps[1][i]
        assert torch.allclose(averaged, expected, atol=1e-7)
        assert not averaged.requires_grad
    assert "generator_ema.0.weight" in gan.state_dict()
    # AGs come from the averaged generator
    z = torch.randn(5, 6, generator=torch.Generator().manual_seed(3))
    expected = gan.generator_ema(z).clamp(min=0).round().to(torch.int8)
    assert torch.equal(gan.sample(5, torch.Generator().manual_seed(3)), expected)
    assert "generator_ema.0.weight" not in GAN(models.make_config("gan", {}), 12).state_dict()


def test_gan_fast_adam_step_is_bit_identical_to_torch_adam():
    cfg = models.make_config("gan", {"batch_size": 8, "latent_size": 6, "ema_decay": 0.9})
    runs = []
    for fast in (True, False):
        torch.manual_seed(0)
        gan = GAN(cfg, 12)
        gan.prepare(_haplotypes(32, 12), seed=0, device=torch.device("cpu"))  # 4 steps an epoch
        if not fast:
            gan._step_g, gan._step_d = gan.opt_g.step, gan.opt_d.step
        generator = torch.Generator().manual_seed(0)
        losses = [gan.train_epoch(generator) for _ in range(3)]
        runs.append((gan, torch.stack(losses)))
    (fast, fast_losses), (plain, plain_losses) = runs
    assert fast._step_g._plan and fast._step_d._plan  # the fast path ran
    assert torch.equal(fast_losses, plain_losses)
    for a, b in zip(fast.state_dict().values(), plain.state_dict().values()):
        assert torch.equal(a, b)
    for opt in ("opt_g", "opt_d"):
        a, b = getattr(fast, opt).state_dict(), getattr(plain, opt).state_dict()
        assert a["param_groups"] == b["param_groups"]
        for i, state in a["state"].items():
            assert state["step"].item() == 12 * (2 if opt == "opt_d" else 1)
            for key, value in state.items():
                assert torch.equal(value, b["state"][i][key]), (opt, i, key)


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


def test_centered_update_is_the_plain_gradient_of_the_centered_parameters():
    """Melchior et al. 2016: W moves by the centred weight gradient; the centred biases
    b + W lambda and c + W^T mu move by the plain bias gradients."""
    torch.manual_seed(0)
    hap = _haplotypes(40, 6)
    cfg = models.make_config("rbm", {"n_hidden": 3, "n_chains": 5, "learning_rate": 0.1})
    rbm = RBM(cfg, 6)
    rbm.prepare(hap, seed=0, device=torch.device("cpu"))
    rbm.weight.copy_(torch.randn(6, 3))
    mu = rbm._visible_offset.double()
    assert mu.numpy() == pytest.approx(hap.mean(0))
    v_pos = torch.from_numpy(hap[:4]).float()
    v_neg = torch.tensor([[1.0, 0, 0, 1, 1, 0], [0, 1, 1, 0, 0, 1]])
    ph_pos, ph_neg = torch.rand(4, 3), torch.rand(2, 3)
    w0, b0, c0 = (x.double().clone() for x in (rbm.weight, rbm.visible_bias, rbm.hidden_bias))
    lam = 0.99 * 0.5 + 0.01 * ph_pos.double().mean(0)  # the running mean after this step
    rbm._centered_update(v_pos, ph_pos, v_neg, ph_neg)
    vp, vn, hp, hn = (x.double() for x in (v_pos, v_neg, ph_pos, ph_neg))
    grad_w = (vp - mu).T @ (hp - lam) / 4 - (vn - mu).T @ (hn - lam) / 2
    w1 = rbm.weight.double()
    assert rbm._hidden_offset.double().numpy() == pytest.approx(lam.numpy(), abs=1e-7)
    assert (w1 - w0).numpy() == pytest.approx(0.1 * grad_w.numpy(), abs=1e-6)
    moved_b = (rbm.visible_bias.double() + w1 @ lam) - (b0 + w0 @ lam)
    assert moved_b.numpy() == pytest.approx(0.1 * (vp.mean(0) - vn.mean(0)).numpy(), abs=1e-6)
    moved_c = (rbm.hidden_bias.double() + w1.T @ mu) - (c0 + w0.T @ mu)
    assert moved_c.numpy() == pytest.approx(0.1 * (hp.mean(0) - hn.mean(0)).numpy(), abs=1e-6)


def test_non_persistent_centered_rbm_draws_the_clusters_in_gibbs_steps_sweeps():
    """Rdm-k training: AGs drawn from random starts in exactly ``gibbs_steps`` sweeps are the
    two training patterns, in about their training shares (3:1)."""
    patterns = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=np.int8)
    hap = np.repeat(patterns, [48, 16], axis=0)
    torch.manual_seed(0)
    cfg = models.make_config(
        "rbm",
        {"n_hidden": 8, "n_chains": 64, "batch_size": 16, "learning_rate": 0.3,
         "gibbs_steps": 5, "centered": True, "persistent": False},
    )  # fmt: skip
    rbm = RBM(cfg, 6)
    rbm.prepare(hap, seed=0, device=torch.device("cpu"))
    start_chains = rbm._chains.clone()
    gen = torch.Generator().manual_seed(0)
    for _ in range(150):
        rbm.train_epoch(gen)
    sample = rbm.sample(1000, gen, steps=5).numpy()
    first = (sample == patterns[0]).all(1).mean()
    second = (sample == patterns[1]).all(1).mean()
    assert first + second > 0.9
    assert first / (first + second) == pytest.approx(0.75, abs=0.05)
    assert not torch.equal(start_chains, rbm._chains)  # the last negative batch is kept


def test_rbm_ema_parameters_are_the_running_average_and_draw_the_ags():
    hap = _haplotypes(8, 5)
    cfg = models.make_config(
        "rbm", {"n_hidden": 3, "n_chains": 4, "batch_size": 8, "ema_decay": 0.5}
    )  # one update per epoch
    torch.manual_seed(0)
    rbm = RBM(cfg, 5)
    rbm.prepare(hap, seed=0, device=torch.device("cpu"))
    names = ("weight", "visible_bias", "hidden_bias")
    history = [[getattr(rbm, k).clone() for k in names]]
    assert all(torch.equal(getattr(rbm, k + "_ema"), v) for k, v in zip(names, history[0]))
    gen = torch.Generator().manual_seed(0)
    for _ in range(2):
        rbm.train_epoch(gen)
        history.append([getattr(rbm, k).clone() for k in names])
    for i, k in enumerate(names):
        expected = 0.5 * (0.5 * history[0][i] + 0.5 * history[1][i]) + 0.5 * history[2][i]
        assert torch.allclose(getattr(rbm, k + "_ema"), expected, atol=1e-7)
    # AGs come from the averaged parameters: all ALT with zero weights and large visible biases
    rbm.weight_ema.zero_()
    rbm.visible_bias_ema.fill_(30.0)
    assert rbm.sample(6, gen, steps=2).all()
    assert "weight_ema" not in RBM(models.make_config("rbm", {}), 5).state_dict()


def test_rbm_sample_temperature_sharpens_only_the_last_visible_draw():
    """With zero weights p(v = 1) = sigmoid(b / T): b = log 4 (p = 0.8) at T = 0.5 gives
    sigmoid(2 log 4) = 16 / 17."""
    for temperature, expected in ((1.0, 0.8), (0.5, 16 / 17)):
        cfg = models.make_config("rbm", {"n_hidden": 2, "sample_temperature": temperature})
        rbm = RBM(cfg, 3)
        rbm.weight.zero_()
        rbm.visible_bias.fill_(np.log(4.0))
        sample = rbm.sample(20000, torch.Generator().manual_seed(0), steps=3).numpy()
        assert sample.mean() == pytest.approx(expected, abs=0.01)
    with pytest.raises(InputError, match="'sample_temperature'"):
        models.make_config("rbm", {"sample_temperature": 0})


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
