"""Tests of training.train and sampling (tiny data, few epochs, CPU)."""

import logging

import numpy as np
import pandas as pd
import pysam
import pytest
import torch

from artificial_genomes import sampling, training
from artificial_genomes.errors import InputError
from artificial_genomes.haplotypes import HaplotypeSet

TINY_GAN = {"epochs": 3, "batch_size": 8, "latent_size": 8, "checkpoint_every": 2}
TINY_RBM = {
    "epochs": 3, "batch_size": 8, "n_hidden": 5, "n_chains": 16, "gibbs_steps": 2,
    "sample_gibbs_steps": 20, "checkpoint_every": 2,
}  # fmt: skip
SETTINGS = {"gan": TINY_GAN, "rbm": TINY_RBM, "independent": {}, "copy": {}}


def _hapset(n_samples=24, n_variants=12, seed=0, split="train"):
    """Two populations with different allele frequencies (some structure to learn)."""
    rng = np.random.default_rng(seed)
    freq = np.where(np.arange(2 * n_samples)[:, None] < n_samples, 0.8, 0.2)
    hap = (rng.random((2 * n_samples, n_variants)) < freq).astype(np.int8)
    return HaplotypeSet(
        haplotypes=hap,
        chrom=["2"] * n_variants,
        pos=np.arange(1, n_variants + 1) * 100,
        id=[f"rs{i}" for i in range(n_variants)],
        ref=["A"] * n_variants,
        alt=["G"] * n_variants,
        samples=[f"S{i}" for i in range(n_samples)],
        population=["AAA"] * (n_samples // 2) + ["BBB"] * (n_samples - n_samples // 2),
        super_population=["X"] * n_samples,
        split=[split] * n_samples,
        meta={"dataset": "tiny"},
    )


def _train(tmp_path, name, settings=None, seed=0, data=None, tag="run"):
    out = tmp_path / tag
    training.train(
        name,
        _hapset() if data is None else data,
        SETTINGS[name] if settings is None else settings,
        out / "model.pt",
        out / "training.tsv",
        tmp_path / f"{name}.ckpt.pt",  # shared between runs of a test, as in the workflow
        seed=seed,
        threads=1,
    )
    return out


def _losses(out):
    return pd.read_csv(out / "training.tsv", sep="\t").drop(columns="seconds")


@pytest.mark.parametrize("name", ["gan", "rbm", "independent", "copy"])
def test_train_and_sample_shapes(tmp_path, name):
    out = _train(tmp_path, name)
    table = pd.read_csv(out / "training.tsv", sep="\t")
    names = training.models.get_model_class(name).loss_names
    assert list(table.columns) == ["epoch", *names, "seconds"]
    assert table["epoch"].tolist() == ([1, 2, 3] if names else [])
    assert not (out / "training.tsv.part").exists()
    payload = torch.load(out / "model.pt", weights_only=True)
    assert payload["model"] == name and payload["n_variants"] == 12
    assert payload["sites"][0] == "2:100:A:G"
    freq = _hapset().haplotypes.mean(0)
    assert payload["allele_frequencies"].numpy() == pytest.approx(freq)
    hap, info = sampling.sample(out / "model.pt", 10, seed=1, device="cpu")
    assert hap.shape == (10, 12) and hap.dtype == np.int8
    assert set(np.unique(hap)) <= {0, 1}
    assert info["model"] == name and info["seed"] == 1


@pytest.mark.parametrize("name", ["gan", "rbm"])
def test_same_seed_same_run_other_seed_other_run(tmp_path, name):
    a = _train(tmp_path / "a", name, seed=3)
    b = _train(tmp_path / "b", name, seed=3)
    c = _train(tmp_path / "c", name, seed=4)
    pd.testing.assert_frame_equal(_losses(a), _losses(b))
    assert not _losses(a).equals(_losses(c))
    sample_a, _ = sampling.sample(a / "model.pt", 20, seed=7, device="cpu")
    sample_b, _ = sampling.sample(b / "model.pt", 20, seed=7, device="cpu")
    other_seed, _ = sampling.sample(a / "model.pt", 20, seed=8, device="cpu")
    assert np.array_equal(sample_a, sample_b)
    assert not np.array_equal(sample_a, other_seed)


@pytest.mark.parametrize("name", ["gan", "rbm"])
def test_resume_reproduces_an_uninterrupted_run(tmp_path, name, caplog):
    whole = _train(tmp_path / "whole", name, {**SETTINGS[name], "epochs": 4})
    _train(tmp_path / "split", name, {**SETTINGS[name], "epochs": 2}, tag="first")
    with caplog.at_level(logging.INFO, logger="artificial_genomes"):
        resumed = _train(tmp_path / "split", name, {**SETTINGS[name], "epochs": 4})
    assert "resuming from checkpoint" in caplog.text and "at epoch 2 of 4" in caplog.text
    pd.testing.assert_frame_equal(_losses(whole), _losses(resumed))
    a = torch.load(whole / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(resumed / "model.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("rbm", {"centered": True, "persistent": False, "ema_decay": 0.9}),
        ("gan", {"ema_decay": 0.9}),
    ],
)
def test_resume_with_training_options_reproduces_an_uninterrupted_run(tmp_path, name, extra):
    """The centred RBM's running hidden offset and the averaged parameters are resumed."""
    settings = {**SETTINGS[name], **extra}
    whole = _train(tmp_path / "whole", name, {**settings, "epochs": 4})
    _train(tmp_path / "split", name, {**settings, "epochs": 2}, tag="first")
    resumed = _train(tmp_path / "split", name, {**settings, "epochs": 4})
    pd.testing.assert_frame_equal(_losses(whole), _losses(resumed))
    a = torch.load(whole / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(resumed / "model.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    ags, _ = sampling.sample(whole / "model.pt", 10, seed=1, device="cpu")
    again, _ = sampling.sample(resumed / "model.pt", 10, seed=1, device="cpu")
    assert np.array_equal(ags, again)


def test_checkpoint_with_other_settings_is_not_resumed(tmp_path, caplog):
    _train(tmp_path, "gan", {**TINY_GAN, "epochs": 2})
    with caplog.at_level(logging.INFO, logger="artificial_genomes"):
        out = _train(tmp_path, "gan", {**TINY_GAN, "epochs": 2, "d_learning_rate": 1e-3})
    assert "made with another config: starting over" in caplog.text
    assert _losses(out)["epoch"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("name", "settings"),
    [
        ("gan", {**TINY_GAN, "g_learning_rate": 1e30, "d_learning_rate": 1e30}),
        ("rbm", {**TINY_RBM, "learning_rate": 1e38}),
    ],
)
def test_non_finite_loss_stops_with_model_and_epoch(tmp_path, name, settings):
    with pytest.raises(training.TrainingDivergedError, match=f"'{name}'.* at epoch 1 "):
        _train(tmp_path, name, settings)
    assert not (tmp_path / "run" / "model.pt").exists()
    assert not (tmp_path / "run" / "training.tsv").exists()


def test_refusals(tmp_path):
    with pytest.raises(InputError, match="'epocs'"):
        _train(tmp_path, "gan", {"epocs": 3})
    with pytest.raises(InputError, match="test split"):
        _train(tmp_path, "gan", data=_hapset(split="test"))
    with pytest.raises(InputError, match="needs about .* GB, more than the limit"):
        _train(tmp_path, "rbm", {**TINY_RBM, "max_memory_gb": 1e-9})
    with pytest.raises(InputError, match="at least batch_size=64"):
        _train(tmp_path, "gan", {**TINY_GAN, "batch_size": 64})
    bad = _hapset()
    bad.haplotypes[3, 5] = -1
    with pytest.raises(InputError, match="0 or 1; found -1 .*rs5"):
        _train(tmp_path, "rbm", data=bad)


def test_run_sample_builds_the_ag_set(tmp_path):
    data = _hapset()
    data.save(tmp_path / "haplotypes.npz")
    out = _train(tmp_path, "independent", data=data)
    with pytest.raises(InputError, match="even"):
        sampling.run_sample(out / "model.pt", tmp_path / "haplotypes.npz", 5, 0, "a", "b", "c")
    sampling.run_sample(
        out / "model.pt", tmp_path / "haplotypes.npz", 6, 2,
        tmp_path / "ag.vcf.gz", tmp_path / "ag.npz", tmp_path / "ag.hapt", dataset="tiny",
    )  # fmt: skip
    ag = HaplotypeSet.load(tmp_path / "ag.npz")
    assert ag.samples.tolist() == ["AG_000001", "AG_000002", "AG_000003"]
    assert ag.population.tolist() == ["", "", ""] and ag.split.tolist() == ["", "", ""]
    assert ag.pos.tolist() == data.pos.tolist() and ag.alt.tolist() == data.alt.tolist()
    expected, _ = sampling.sample(out / "model.pt", 6, seed=2)
    assert np.array_equal(ag.haplotypes, expected)
    with pysam.VariantFile(str(tmp_path / "ag.vcf.gz")) as vcf_in:
        header = str(vcf_in.header).splitlines()
        assert list(vcf_in.header.samples) == ag.samples.tolist()
        first = next(iter(vcf_in))
        assert first.samples["AG_000001"]["GT"] == tuple(expected[0:2, 0])
    assert "##ag_model=independent" in header and "##ag_seed=2" in header
    assert "##ag_dataset=tiny" in header
    rows = (tmp_path / "ag.hapt").read_text().splitlines()
    assert len(rows) == 6 and rows[0].split()[2:] == [str(v) for v in expected[0]]
    other = _hapset(n_variants=11)
    other.save(tmp_path / "other.npz")
    with pytest.raises(InputError, match="trained on 12 variants"):
        sampling.run_sample(out / "model.pt", tmp_path / "other.npz", 6, 2, "a", "b", "c")


def test_run_sample_writes_a_vcf_that_reads_back(tmp_path):
    pysam = pytest.importorskip("pysam")
    data = _hapset()
    data.save(tmp_path / "haplotypes.npz")
    out = _train(tmp_path, "copy", data=data)
    sampling.run_sample(
        out / "model.pt", tmp_path / "haplotypes.npz", 4, 5,
        tmp_path / "ag.vcf.gz", tmp_path / "ag.npz", tmp_path / "ag.hapt", dataset="tiny",
    )  # fmt: skip
    expected, _ = sampling.sample(out / "model.pt", 4, seed=5)
    with pysam.VariantFile(str(tmp_path / "ag.vcf.gz")) as vcf:
        assert list(vcf.header.samples) == ["AG_000001", "AG_000002"]
        assert "##ag_model=copy" in str(vcf.header)
        genotypes = [[s["GT"] for s in rec.samples.values()] for rec in vcf]
    matrix = np.array(genotypes).transpose(1, 2, 0).reshape(4, -1)  # (sample, allele, site)
    assert np.array_equal(matrix, expected)
