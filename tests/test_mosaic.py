"""Tests of the Li-Stephens mosaic baseline (tiny hand-made maps and haplotypes, CPU)."""

import gzip
import math

import numpy as np
import pytest
import torch

from artificial_genomes import models, sampling, training
from artificial_genomes.errors import InputError
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.models import mosaic
from artificial_genomes.models.mosaic import (
    copying_error,
    draw_mosaic,
    genetic_positions,
    switch_probabilities,
    watterson_theta,
)

# Map of contig 2: 1 cM per kb up to 2000, then 0.5 cM per kb up to 3000.
MAP_ROWS = [(1000, "2", 0.0), (2000, "2", 1.0), (3000, "2", 1.5)]
# SNP positions and their genetic positions in cM, by hand (500 and 4000 lie beyond the map).
SNP_POS = [500, 1500, 2000, 2500, 4000]
SNP_CM = [0.0, 0.5, 1.0, 1.25, 1.5]


def _write_map(path, rows=MAP_ROWS):
    text = "pos\tchr\tcM\n" + "".join(f"{p}\t{c}\t{cm}\n" for p, c, cm in rows)
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    return path


def _distinct_rows(n_rows, n_variants, seed=0):
    """``n_rows`` pairwise different 0/1 haplotypes (``n_variants`` well above log2(n_rows))."""
    assert 2**n_variants >= 8 * n_rows
    rng = np.random.default_rng(seed)
    while True:
        hap = (rng.random((n_rows, n_variants)) < 0.5).astype(np.int8)
        if len(np.unique(hap, axis=0)) == n_rows:
            return hap


def _fit(haplotypes, chrom, pos, **settings):
    model = models.REGISTRY["mosaic"](models.make_config("mosaic", settings), haplotypes.shape[1])
    model.set_sites(np.asarray(chrom), np.asarray(pos))
    model.prepare(haplotypes, seed=0, device=torch.device("cpu"))
    return model


def test_map_interpolation_and_clamping(tmp_path):
    gmap = _write_map(tmp_path / "chr2.gmap.gz")
    morgans = genetic_positions(["2"] * 5, SNP_POS, str(gmap))
    assert morgans == pytest.approx(np.array(SNP_CM) / 100)
    # no map: a constant 2 cM/Mb, i.e. 2e-8 Morgans per bp
    assert genetic_positions(["2", "2"], [1_000_000, 3_500_000], None, 2.0) == pytest.approx(
        [0.02, 0.07]
    )


def test_map_per_chromosome_template(tmp_path):
    _write_map(tmp_path / "chr2.gmap.gz")
    _write_map(tmp_path / "chr7.gmap.gz", [(1000, "7", 10.0), (2000, "7", 12.0)])
    morgans = genetic_positions(["2", "7"], [1500, 1250], str(tmp_path / "chr{chrom}.gmap.gz"))
    assert morgans == pytest.approx([0.005, 0.105])


def test_map_contig_mismatch_is_named(tmp_path):
    gmap = _write_map(tmp_path / "m.gmap.gz", [(p, "chr2", cm) for p, _, cm in MAP_ROWS])
    with pytest.raises(InputError, match=r"contig\(s\) chr2 but the SNPs lie on contig '2'"):
        genetic_positions(["2"], [1500], str(gmap))
    with pytest.raises(InputError, match="does not exist"):
        genetic_positions(["2"], [1500], str(tmp_path / "missing.gmap.gz"))


def test_switch_probabilities_by_hand(tmp_path):
    hap = _distinct_rows(50, 12)[:, :5]
    model = _fit(hap, ["2"] * 5, SNP_POS, genetic_map=str(_write_map(tmp_path / "m.gz")), ne=5000)
    gaps = np.diff(SNP_CM) / 100  # Morgans: 0.005, 0.005, 0.0025, 0.0025
    expected = [1.0, *(1 - np.exp(-4 * 5000 * gaps / 50))]  # 1 - exp(-2), ..., 1 - exp(-1)
    assert model.switch_prob.numpy() == pytest.approx(expected)
    assert expected[1] == pytest.approx(1 - math.exp(-2.0))


@pytest.mark.parametrize("chunk", [256, 1])  # chunk 1: every SNP carries over from the last
def test_switch_frequency_matches_rho(monkeypatch, chunk):
    monkeypatch.setattr(mosaic, "SAMPLE_CHUNK", chunk)
    n_rows, n_ags = 40, 20_000
    hap = torch.zeros((n_rows, 4), dtype=torch.int8)  # the sources tell the rows apart
    prob = torch.tensor([1.0, 0.1, 0.5, 0.0], dtype=torch.float64)
    gen = torch.Generator().manual_seed(3)
    _, sources = draw_mosaic(hap, prob, 0.0, n_ags, gen, return_sources=True)
    changed = (sources[:, 1:] != sources[:, :-1]).double().mean(0).numpy()
    # a jump lands on a uniform row, the one copied included: it shows with prob (K - 1) / K
    expected = prob[1:].numpy() * (n_rows - 1) / n_rows
    sd = np.sqrt(expected * (1 - expected) / n_ags)
    assert (np.abs(changed - expected) <= 4 * sd + 1e-12).all()
    assert changed[2] == 0.0
    # the first SNP copies every row about equally often
    counts = np.bincount(sources[:, 0].numpy(), minlength=n_rows)
    assert counts.min() > 0.7 * n_ags / n_rows


@pytest.mark.parametrize("chunk", [256, 3])
def test_no_recombination_no_error_gives_exact_copies(monkeypatch, chunk):
    monkeypatch.setattr(mosaic, "SAMPLE_CHUNK", chunk)
    hap = _distinct_rows(30, 16)
    model = _fit(hap, ["2"] * 16, np.arange(1, 17) * 1000, ne=0, theta=0)
    assert model.switch_prob.numpy().tolist() == [1.0] + [0.0] * 15
    assert float(model.flip_prob) == 0.0
    ags = model.sample(500, torch.Generator().manual_seed(0)).numpy()
    rows = {row.tobytes() for row in hap}
    assert all(ag.tobytes() in rows for ag in ags)
    assert len({ag.tobytes() for ag in ags}) == 30  # every training row gets copied


def test_chromosome_boundary_is_a_free_switch():
    chrom = np.array(["1", "1", "1", "2", "2"])
    prob = switch_probabilities(chrom, np.array([0.0, 0.01, 0.02, 0.0, 0.01]), 10, ne=0)
    assert prob.tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    n_rows, n_ags = 20, 10_000
    gen = torch.Generator().manual_seed(1)
    _, sources = draw_mosaic(
        torch.zeros((n_rows, 5), dtype=torch.int8), torch.from_numpy(prob), 0.0, n_ags, gen, True
    )
    sources = sources.numpy()
    assert (sources[:, 1] == sources[:, 0]).all() and (sources[:, 4] == sources[:, 3]).all()
    assert (sources[:, 3] != sources[:, 2]).mean() == pytest.approx((n_rows - 1) / n_rows, abs=0.02)


def test_allele_frequencies_preserved_on_average():
    rng = np.random.default_rng(5)
    freq = rng.uniform(0.05, 0.95, 40)
    hap = (rng.random((200, 40)) < freq).astype(np.int8)
    model = _fit(hap, ["2"] * 40, np.arange(1, 41) * 50_000, recombination_rate=1.0)
    ags = model.sample(40_000, torch.Generator().manual_seed(2)).numpy()
    assert 0 < float(model.switch_prob[1]) < 1
    train_freq = hap.mean(0)
    assert np.abs(ags.mean(0) - train_freq).max() < 0.015
    assert abs(ags.mean() - train_freq.mean()) < 0.002


def test_copying_error_flips_alleles_at_the_li_stephens_rate():
    assert watterson_theta(4) == pytest.approx(1 / (1 + 1 / 2 + 1 / 3))
    assert copying_error(0.5, 9) == pytest.approx(0.5 / 19)
    hap = np.zeros((4, 50), dtype=np.int8)
    model = _fit(hap, ["2"] * 50, np.arange(1, 51), ne=0, theta=1.0)  # flip prob 1 / 10
    ags = model.sample(2000, torch.Generator().manual_seed(4)).numpy()
    assert ags.mean() == pytest.approx(0.1, abs=0.005)


def test_train_save_sample_and_settings(tmp_path):
    n = 12
    hap = _distinct_rows(2 * n, 8)[:, :5]
    data = HaplotypeSet(
        haplotypes=hap, chrom=["2"] * 5, pos=SNP_POS, id=[f"rs{i}" for i in range(5)],
        ref=["A"] * 5, alt=["G"] * 5, samples=[f"S{i}" for i in range(n)],
        population=["P"] * n, super_population=["X"] * n, split=["train"] * n,
    )  # fmt: skip
    gmap = _write_map(tmp_path / "m.gmap.gz")
    settings = {"genetic_map": str(gmap), "ne": 1000, "theta": 0}
    training.train("mosaic", data, settings, tmp_path / "model.pt", tmp_path / "t.tsv",
                   tmp_path / "ckpt.pt", seed=0, threads=1)  # fmt: skip
    payload = torch.load(tmp_path / "model.pt", weights_only=True)
    assert payload["config"]["genetic_map"] == str(gmap)
    assert torch.equal(payload["state_dict"]["haplotypes"], torch.from_numpy(hap))
    first, info = sampling.sample(tmp_path / "model.pt", 64, seed=7, device="cpu")
    again, _ = sampling.sample(tmp_path / "model.pt", 64, seed=7, device="cpu")
    assert info["model"] == "mosaic" and first.shape == (64, 5)
    assert np.array_equal(first, again)
    # theta 0: every allele of an AG is the allele of some training haplotype at that SNP
    assert all(np.isin(first[:, j], hap[:, j]).all() for j in range(5))
    with pytest.raises(InputError, match="'genetic_map'"):
        models.make_config("mosaic", {"genetic_map": 3})
    with pytest.raises(InputError, match="'ne'"):
        models.make_config("mosaic", {"ne": -1})
