"""Windows: cutting a region, joining the windows' AGs, and the workflow that trains them apart."""

import re
import shutil
import subprocess

import numpy as np
import pysam
import pytest

from artificial_genomes.errors import InputError
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.windows import (
    check_windows,
    gather_windows,
    genomic_order,
    join_windows,
    split_region,
    window_regions,
)
from workflow_utils import make_workdir, snakemake, tiny_config


def _bounds(regions):
    return [tuple(int(x) for x in r.split(":")[1].split("-")) for r in regions]


# --- cutting a region ---------------------------------------------------------------------------


def test_split_region_by_hand():
    # 10 bp in 3: cuts at 101 + floor(k * 10 / 3) = 101, 104, 107, 111
    assert split_region("2:101-110", 3) == ["2:101-103", "2:104-106", "2:107-110"]
    assert split_region("2:1,000-1,999", 2) == ["2:1000-1499", "2:1500-1999"]
    assert split_region("X:5-5", 1) == ["X:5-5"]


@pytest.mark.parametrize("start, end, n", [(1, 7, 7), (136401418, 136699902, 4), (10, 1009, 7)])
def test_split_region_partitions_the_region_exactly(start, end, n):
    windows = split_region(f"2:{start}-{end}", n)
    assert len(windows) == n
    assert all(w.startswith("2:") for w in windows)
    bounds = _bounds(windows)
    covered = np.concatenate([np.arange(a, b + 1) for a, b in bounds])
    # every position of the region in exactly one window, in order
    np.testing.assert_array_equal(covered, np.arange(start, end + 1))
    lengths = [b - a + 1 for a, b in bounds]
    assert max(lengths) - min(lengths) <= 1
    assert window_regions(f"2:{start}-{end}", n) == windows


def test_lct_in_four_windows():
    assert split_region("2:136401418-136699902", 4) == [
        "2:136401418-136476038",
        "2:136476039-136550659",
        "2:136550660-136625280",
        "2:136625281-136699902",
    ]


@pytest.mark.parametrize(
    "region, n, message",
    [
        ("2:1-10", 0, "between 1 and the region's length (10 bp)"),
        ("2:1-10", 11, "between 1 and the region's length (10 bp)"),
        ("2:1-10", True, "not a whole number"),
        ("2", 2, "is a whole contig"),
        (None, 2, "region is not set"),
        ("2:10-1", 2, "has start 10 and end 1"),
    ],
)
def test_split_region_refuses(region, n, message):
    with pytest.raises(InputError, match=re.escape(message)):
        split_region(region, n)


def test_explicit_windows_are_checked_and_normalised():
    windows = ["2:1,000-1,499", "2:1500-1799", "2:1800-2000"]
    assert check_windows("2:1000-2000", windows) == ["2:1000-1499", "2:1500-1799", "2:1800-2000"]
    assert window_regions("2:1000-2000", windows) == check_windows("2:1000-2000", windows)


@pytest.mark.parametrize(
    "windows, message",
    [
        (["2:1000-1499", "3:1500-2000"], "window 2 (3:1500-2000) is on contig '3'"),
        (["2:900-1499", "2:1500-2000"], "window 1 (2:900-1499) reaches outside the region"),
        (["2:1000-1500", "2:2001-2100"], "window 2 (2:2001-2100) reaches outside"),
        (["2:1000-1500", "2:1500-2000"], "window 2 (2:1500-2000) starts at or before the end"),
        (["2:1500-2000", "2:1000-1499"], "overlap or are not sorted"),
        (["2:1000-1400", "2:1500-2000"], "1401-1499 of the region '2:1000-2000' is in no window"),
        (["2:1001-2000"], "1000-1000 of the region"),
        (["2:1000-1999"], "2000-2000 of the region"),
        (["2"], "window 1 '2' is a whole contig"),
        ([], "windows is an empty list"),
    ],
)
def test_explicit_windows_are_refused(windows, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_windows("2:1000-2000", windows)


# --- joining the windows' AGs -------------------------------------------------------------------

POS = np.array([10, 20, 30, 40, 50, 60])
SPLIT = np.array(["train", "test", "train", "train"])


def _real(cols=slice(None), split=SPLIT, samples=("S1", "S2", "S3", "S4")):
    rng = np.random.default_rng(1)
    n = len(samples)
    return HaplotypeSet(
        haplotypes=rng.integers(0, 2, (2 * n, len(POS)))[:, cols],
        chrom=np.full(len(POS), "2")[cols],
        pos=POS[cols],
        id=np.array([f"rs{p}" for p in POS])[cols],
        ref=np.full(len(POS), "A")[cols],
        alt=np.full(len(POS), "G")[cols],
        samples=np.array(samples),
        population=np.array(["YRI", "YRI", "CEU", "CEU"][:n]),
        super_population=np.array(["AFR", "AFR", "EUR", "EUR"][:n]),
        split=np.asarray(split),
    )


def _ags(cols, first_value, name, n_ags=6):
    """AGs of a window: haplotype i holds the bits of (first_value + i), one per site."""
    real = _real(cols)
    n_var = real.n_variants
    codes = first_value + np.arange(n_ags)
    haplotypes = (codes[:, None] >> np.arange(n_var)[None, :]) & 1
    return HaplotypeSet(
        haplotypes=haplotypes,
        chrom=real.chrom,
        pos=real.pos,
        id=real.id,
        ref=real.ref,
        alt=real.alt,
        samples=np.array([f"AG_{i:06d}" for i in range(1, n_ags // 2 + 1)]),
        population=np.full(n_ags // 2, ""),
        super_population=np.full(n_ags // 2, ""),
        split=np.full(n_ags // 2, ""),
        meta={"dataset": name, "model": "gan", "seed": str(first_value), "epochs_trained": "2"},
    )


def test_join_puts_windows_in_genomic_order_and_pairs_haplotype_i():
    whole = _real()
    w1, w2, w3 = (
        _ags(slice(0, 2), 0, "d.w1"),
        _ags(slice(2, 5), 1, "d.w2"),
        _ags(slice(5, 6), 2, "d.w3"),
    )
    windows = [w3, w1, w2]  # any order in, genomic order out
    assert genomic_order(windows, whole) == [1, 2, 0]
    reals = [_real(slice(5, 6)), _real(slice(0, 2)), _real(slice(2, 5))]
    ags = join_windows(windows, whole, reals, ["d.w3", "d.w1", "d.w2"])
    np.testing.assert_array_equal(ags.pos, POS)
    assert ags.meta["windows"] == "d.w1,d.w2,d.w3"
    assert ags.haplotypes.dtype == np.int8
    # AG haplotype 4: bits of 4 on 2 sites, of 5 on 3 sites, of 6 on 1 site
    np.testing.assert_array_equal(ags.haplotypes[4], [0, 0, 1, 0, 1, 0])
    for i in range(6):
        np.testing.assert_array_equal(
            ags.haplotypes[i],
            np.concatenate([w1.haplotypes[i], w2.haplotypes[i], w3.haplotypes[i]]),
        )
    np.testing.assert_array_equal(ags.samples, ["AG_000001", "AG_000002", "AG_000003"])


def test_join_refuses_sites_that_are_not_the_whole_regions():
    whole = _real()
    w1 = _ags(slice(0, 3), 0, "d.w1")
    with pytest.raises(
        InputError, match=r"3 sites of the whole region are in no window \(first: 2:40"
    ):
        join_windows([w1, _ags(slice(3, 3), 0, "d.w2")], whole)
    overlapping = [w1, _ags(slice(2, 6), 0, "d.w2")]  # site 30 in both
    with pytest.raises(InputError, match="more than once"):
        join_windows(overlapping, whole)
    other = _ags(slice(3, 6), 0, "d.w2")
    other.alt = np.array(["T", "G", "G"])  # another ALT at 40
    with pytest.raises(
        InputError, match=r"1 window sites are not in the whole region \(first: 2:40:A:T"
    ):
        join_windows([w1, other], whole)


def test_join_refuses_windows_that_cannot_be_paired_or_were_split_otherwise():
    whole = _real()
    w1, w2 = _ags(slice(0, 3), 0, "d.w1"), _ags(slice(3, 6), 0, "d.w2", n_ags=4)
    with pytest.raises(InputError, match="AG i of each window cannot be paired"):
        join_windows([w1, w2], whole)
    w2 = _ags(slice(3, 6), 0, "d.w2")
    moved = _real(slice(3, 6), split=["train", "train", "test", "train"])
    with pytest.raises(
        InputError,
        match=r"d.w2 puts 2 individuals on another side .*first: S2, train in the window",
    ):
        join_windows([w1, w2], whole, [_real(slice(0, 3)), moved], ["d.w1", "d.w2"])
    fewer = _real(slice(3, 6), split=SPLIT[:3], samples=("S1", "S2", "S3"))
    with pytest.raises(InputError, match="kept 3 individuals and the whole region 4 .*: S4"):
        join_windows([w1, w2], whole, [_real(slice(0, 3)), fewer], ["d.w1", "d.w2"])
    with pytest.raises(InputError, match="no windows"):
        join_windows([], whole)


def test_gather_windows_writes_a_vcf_of_the_joined_ags(tmp_path):
    whole = _real()
    whole.save(tmp_path / "whole.npz")
    ag_paths, real_paths = [], []
    for k, (cols, value) in enumerate([(slice(3, 6), 7), (slice(0, 3), 1)], start=1):
        _ags(cols, value, f"d.w{k}").save(tmp_path / f"ag{k}.npz")
        _real(cols).save(tmp_path / f"real{k}.npz")
        ag_paths.append(tmp_path / f"ag{k}.npz")
        real_paths.append(tmp_path / f"real{k}.npz")
    out = tmp_path / "out"
    gather_windows(ag_paths, real_paths, tmp_path / "whole.npz", out / "ag.vcf.gz",
                   out / "ag.npz", out / "ag.hapt", dataset="d",
                   regions=["2:31-60", "2:1-30"])  # fmt: skip
    ags = HaplotypeSet.load(out / "ag.npz")
    assert ags.meta["windows"] == "d.w2,d.w1"
    assert ags.meta["regions"] == "2:1-30,2:31-60"
    assert ags.meta["seed"] == "1,7"
    with pysam.VariantFile(str(out / "ag.vcf.gz")) as vcf:
        header = str(vcf.header)
        records = list(vcf)
    assert "##ag_window_regions=2:1-30,2:31-60" in header
    assert [r.pos for r in records] == POS.tolist()
    # AG_000002 = haplotypes 2 and 3: bits of 3 and 4 on the first window, of 9 and 10 on the second
    genotypes = [r.samples["AG_000002"]["GT"] for r in records]
    assert genotypes == [(1, 0), (1, 0), (0, 1), (1, 0), (0, 1), (0, 0)]
    assert (out / "ag.vcf.gz.tbi").exists()
    first_row = (out / "ag.hapt").read_text().splitlines()[0]
    assert first_row == "AG AG_000001_A 1 0 0 1 1 1"


# --- the workflow -------------------------------------------------------------------------------


def _windowed_config(windows=2):
    config = tiny_config()
    config["datasets"]["tiny"]["windows"] = windows
    return config


def test_dry_run_trains_each_window_and_gathers(tmp_path):
    workdir = make_workdir(tmp_path, _windowed_config())
    out = snakemake(workdir, "-n", "--cores", "1").stdout
    jobs = re.findall(r"^rule (\w+):\n(?:    .*\n)*?    wildcards: (.*)$", out, re.MULTILINE)
    planned = sorted((rule, wildcards) for rule, wildcards in jobs)
    per_window = [
        (rule, f"dataset=tiny.w{k}") for rule in ("download", "encode", "subset") for k in (1, 2)
    ]
    models = [
        (rule, f"dataset=tiny.w{k}, model={m}")
        for rule in ("sample", "train")
        for k in (1, 2)
        for m in ("gan", "rbm")
    ]
    whole = [(rule, "dataset=tiny") for rule in ("download", "encode", "report", "subset")]
    gathered = [
        (rule, f"dataset=tiny, model={m}")
        for rule in ("evaluate", "gather_windows")
        for m in ("gan", "rbm")
    ]
    assert planned == sorted(per_window + models + whole + gathered)


def test_bad_windows_are_refused_at_start(tmp_path):
    workdir = make_workdir(
        tmp_path, _windowed_config(["2:136600000-136609999", "2:136610001-136620000"])
    )
    proc = snakemake(workdir, "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert "datasets.tiny.windows: 136610000-136610000 of the region" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_windowed_run_gathers_one_vcf_per_model_on_the_whole_regions_sites(tmp_path):
    workdir = make_workdir(tmp_path, _windowed_config())
    models = ("gan", "rbm")
    targets = [f"results/samples/tiny/{m}/ag.vcf.gz" for m in models]
    snakemake(workdir, "--cores", "2", *targets)
    real = HaplotypeSet.load(workdir / "results" / "data" / "tiny" / "haplotypes.npz")
    windows = [
        HaplotypeSet.load(workdir / f"results/data/tiny.w{k}/haplotypes.npz") for k in (1, 2)
    ]
    assert sum(w.n_variants for w in windows) == real.n_variants
    assert windows[0].pos.max() < 136610000 <= windows[1].pos.min()
    for model in models:
        vcf = workdir / "results" / "samples" / "tiny" / model / "ag.vcf.gz"
        if shutil.which("bcftools"):
            pos = subprocess.run(
                ["bcftools", "query", "-f", "%POS\\n", str(vcf)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        else:
            with pysam.VariantFile(str(vcf)) as records:
                pos = [r.pos for r in records]
        pos = np.array(pos, dtype=np.int64)
        np.testing.assert_array_equal(np.unique(pos), pos)  # sorted, each once
        np.testing.assert_array_equal(pos, real.pos)
        ags = HaplotypeSet.load(vcf.with_name("ag.npz"))
        assert ags.haplotypes.shape == (100, real.n_variants)
        # window k trained and sampled with seed 42 + k
        assert ags.meta["seed"] == "43,44"
        log = (workdir / "logs" / "train" / "tiny.w2" / f"{model}.log").read_text()
        assert "seed 44" in log
