"""Bad input, case by case: each is refused with a message naming the problem and the fix, or
handled in a way the log states. Every test writes its own tiny VCFs (8 samples of the conftest
panel: GBR, GBR, FIN, FIN, YRI, YRI, CHB, CHB)."""

import gzip
import json
import logging
import os

import numpy as np
import pandas as pd
import pysam
import pytest
from conftest import TINY_SAMPLES, write_panels, write_vcf_text

from artificial_genomes import metrics, training, vcf
from artificial_genomes.download import fetch_source
from artificial_genomes.encode import encode, read_haplotypes, split_individuals
from artificial_genomes.errors import InputError
from artificial_genomes.evaluate import run_evaluate
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.subset import subset_vcf
from workflow_utils import make_workdir, snakemake, tiny_config

SAMPLES = [s[0] for s in TINY_SAMPLES]
POLY = "0|1 1|0 0|0 1|1 0|0 0|1 1|0 0|0"  # ALT frequency 6/16 over the 8 samples
LOGGER = "artificial_genomes"


@pytest.fixture
def panel(tmp_path):
    """The normalised panel TSV of the 8 samples."""
    return write_panels(tmp_path)[1]


def positions(path):
    with pysam.VariantFile(str(path)) as vf:
        return [rec.pos for rec in vf]


def column(genotypes):
    """Haplotype column of a genotype string: left then right allele of each sample, -1 missing."""
    alleles = []
    for gt in genotypes.split():
        pair = [".", "."] if gt == "." else gt.replace("/", "|").split("|")
        alleles += [-1 if a == "." else int(a) for a in pair]
    return alleles


# -------------------------------------------------------------------------------------------
# 1. several ALT alleles; one site split into biallelic records
# -------------------------------------------------------------------------------------------


def test_multiallelic_and_split_sites_never_reach_the_matrix(make_vcf, panel, tmp_path, caplog):
    src = make_vcf(
        [
            (100, "tri", "C", "G,T,A", "0|1 2|3 0|0 1|1 0|0 0|2 3|0 0|0"),
            (200, "splitG", "A", "G", "0|1 1|0 0|0 0|0 0|0 0|0 0|0 0|0"),  # one site, two
            (200, "splitT", "A", "T", "0|0 0|0 1|0 0|1 0|0 0|0 0|0 0|0"),  # records
            (300, "ok", "G", "A", POLY),
            (400, "both_multi", "T", "C,G", "0|1 0|0 0|2 0|0 0|0 0|0 1|0 0|0"),  # one site written
            (400, "both_bi", "T", "C", "0|1 0|0 0|0 0|0 0|0 0|0 1|0 0|0"),  # as multi and split
            (500, "snp", "A", "G", POLY),
            (500, "ins", "A", "AT", POLY),  # an indel at a SNP's position takes nothing from it
            (600, "carried", "C", "T", POLY),
            (600, "nobody", "C", "G", "0|0 0|0 0|0 0|0 0|0 0|0 0|0 0|0"),  # no carrier here
        ]
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        stats = subset_vcf(src, panel, tmp_path / "s.bcf")
    assert positions(tmp_path / "s.bcf") == [300, 500, 600]
    assert stats["n_records"] == 10 and stats["n_sites"] == 3
    assert stats["dropped_multi_allelic"] == 2
    assert stats["dropped_duplicate_position"] == 3  # splitG, splitT, both_bi
    assert stats["dropped_not_snp"] == 1 and stats["dropped_monomorphic"] == 1
    assert "dropped 2: more than one ALT allele" in caplog.text
    assert "dropped 3: another SNP record at the same position" in caplog.text
    hs = encode(tmp_path / "s.bcf", panel, tmp_path / "h.npz", tmp_path / "split.tsv")
    assert hs.id.tolist() == ["ok", "snp", "carried"]
    np.testing.assert_array_equal(hs.haplotypes, np.array([column(POLY)] * 3, np.int8).T)
    vcf.write_vcf(hs, tmp_path / "out.vcf.gz")  # what the sample step writes, on these sites
    out = positions(tmp_path / "out.vcf.gz")
    assert out == sorted(set(out)) == [300, 500, 600]


# -------------------------------------------------------------------------------------------
# 2. contig naming: 22 against chr22 and the reverse
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("in_vcf", "region"), [("chr22", "22:1-1000"), ("22", "chr22:1-1000")])
@pytest.mark.parametrize("form", ["indexed", "plain_without_contig_lines"])
def test_chr_prefix_mismatch_is_named(make_vcf, panel, tmp_path, in_vcf, region, form):
    src = make_vcf([(100, "a", "A", "G", POLY)], contig=in_vcf)
    if form == "plain_without_contig_lines":  # nothing but the CHROM column names the contig
        with gzip.open(src, "rt") as handle:
            text = "".join(line for line in handle if not line.startswith("##contig"))
        src = tmp_path / "bare.vcf"
        src.write_text(text)
    steps = [lambda: fetch_source({"vcf": str(src), "panel": str(panel)}, region, {},
                                  tmp_path / "o.vcf.gz", tmp_path / "o.tsv")]  # fmt: skip
    if form == "indexed":  # subset reads the download step's output, whose header names contigs
        steps.append(lambda: subset_vcf(src, panel, tmp_path / "s.bcf", region))
    for step in steps:
        with pytest.raises(InputError) as err:
            step()
        message = str(err.value)
        assert f"names contig '{region.split(':')[0]}'" in message
        assert f"calls it '{in_vcf}'" in message and "'chr' prefix" in message
        assert f"fix: write the region with '{in_vcf}'" in message
    assert not (tmp_path / "o.vcf.gz").exists() and not (tmp_path / "s.bcf").exists()


# -------------------------------------------------------------------------------------------
# 3. empty region, header-only VCF
# -------------------------------------------------------------------------------------------


def test_empty_region_and_header_only_vcf(make_vcf, panel, tmp_path):
    src = make_vcf(
        [(100, "ins", "A", "AT", POLY), (150, "mono", "C", "T", "0|0 " * 8), (900, "b", "C", "T",
                                                                               POLY)]
    )  # fmt: skip
    args = (tmp_path / "o.vcf.gz", tmp_path / "o.tsv")
    with pytest.raises(InputError, match=r"region 2:5000-6000 of .* holds 0 records \(0 variants "
                                         r"after filters, 0 before\)"):  # fmt: skip
        fetch_source({"vcf": str(src), "panel": str(panel)}, "2:5000-6000", {}, *args)
    with pytest.raises(InputError, match=r"region 2:1-200 holds 0 variants after filters \(2 "
                                         r"before; not a SNP.*: 1; monomorphic .*: 1\)"):  # fmt: skip
        subset_vcf(src, panel, tmp_path / "s.bcf", "2:1-200")
    for name in ("header_only.vcf.gz", "header_only.vcf"):
        empty = make_vcf([], name=name)
        with pytest.raises(InputError, match="holds 0 records .*header but no record"):
            fetch_source({"vcf": str(empty), "panel": str(panel)}, None, {}, *args)
        with pytest.raises(InputError, match=r"holds 0 variants after filters \(0 before; none\)"):
            subset_vcf(empty, panel, tmp_path / "s.bcf")
    assert not any(p.exists() for p in (*args, tmp_path / "s.bcf"))


# -------------------------------------------------------------------------------------------
# 4. compression and index: plain, plain gzip, CSI only, no index, stale index, unsorted
# -------------------------------------------------------------------------------------------

RECORDS = [(p, f"rs{p}", "A", "G", POLY) for p in (500, 1000, 1500, 2500)]


def _source(tmp_path, form):
    """``RECORDS`` written as ``form``; the region 2:1000-2000 holds 1000 and 1500."""
    if form == "plain_vcf":
        return write_vcf_text(tmp_path / "in.vcf", RECORDS, SAMPLES)
    if form == "unsorted_plain_vcf":
        return write_vcf_text(tmp_path / "in.vcf", RECORDS[::-1], SAMPLES)
    if form == "plain_gzip":
        plain = write_vcf_text(tmp_path / "in.vcf", RECORDS, SAMPLES)
        path = tmp_path / "in.vcf.gz"
        with open(plain, "rb") as src, gzip.open(path, "wb") as dst:
            dst.write(src.read())
        return path
    path = tmp_path / "in.vcf.gz"
    if form == "stale_index":  # an index of an older file with other records, dated before it
        write_vcf_text(path, [(p, "old", "A", "G", POLY) for p in (1200, 1300, 1400)], SAMPLES)
        write_vcf_text(path, RECORDS, SAMPLES, index=False)
        os.utime(f"{path}.tbi", (path.stat().st_mtime - 60,) * 2)
        return path
    write_vcf_text(path, RECORDS, SAMPLES, index=False)
    if form == "csi_only":
        pysam.tabix_index(str(path), preset="vcf", csi=True, force=True)
        assert os.path.exists(f"{path}.csi") and not os.path.exists(f"{path}.tbi")
    return path


@pytest.mark.parametrize(
    ("form", "logged"),
    [
        ("plain_vcf", "has no usable index: streaming"),
        ("unsorted_plain_vcf", "not sorted by position: sorting them"),
        ("plain_gzip", "has no usable index: streaming"),
        ("csi_only", ""),
        ("no_index", "has no usable index: streaming"),
        ("stale_index", "is older than the file, so it may not match it: ignoring it"),
    ],
)
def test_every_compression_and_index_state_is_read_right(tmp_path, panel, form, logged, caplog):
    src = _source(tmp_path, form)
    out = tmp_path / "data" / "source.vcf.gz"
    with caplog.at_level(logging.INFO, logger=LOGGER):
        stats = fetch_source({"vcf": str(src), "panel": str(panel)}, "2:1000-2000", {}, out,
                             tmp_path / "data" / "panel.tsv")  # fmt: skip
    assert positions(out) == [1000, 1500] and stats["n_records"] == 2
    assert os.path.exists(f"{out}.tbi")
    assert logged in caplog.text
    if form == "stale_index":
        assert f"bcftools index -f -t {src}" in caplog.text  # the exact fix
    # the subset step reads the same forms directly
    assert subset_vcf(src, panel, tmp_path / "s.bcf", "2:1000-2000")["n_sites"] == 2
    assert positions(tmp_path / "s.bcf") == [1000, 1500]
    stats = fetch_source({"vcf": str(src), "panel": str(panel)}, None, {},
                         tmp_path / "all.vcf.gz", tmp_path / "all.tsv")  # fmt: skip
    assert positions(tmp_path / "all.vcf.gz") == [500, 1000, 1500, 2500]
    assert sorted(os.listdir(tmp_path / "data")) == ["panel.tsv", "source.vcf.gz",
                                                     "source.vcf.gz.tbi"]  # fmt: skip


# -------------------------------------------------------------------------------------------
# 5. unphased heterozygotes: refuse (default), drop_sites, drop_samples
# -------------------------------------------------------------------------------------------

UNPHASED = [
    (100, "u1", "A", "G", "0/1 1|0 0|0 1|1 0|0 0|1 1|0 0|0"),  # HG00096 unphased
    (200, "u2", "A", "G", "0|1 1|0 0/1 1|1 0|0 0|1 1|0 0|0"),  # HG00171 unphased
    (300, "clean", "A", "G", POLY),
    (400, "u3", "A", "G", "0|0 0|0 0|0 0|0 0|0 0|0 0|0 1/0"),  # NA18526's ALT only, unphased
    (500, "homs", "A", "G", "1/1 0/0 0|1 1|0 0|0 0|0 0|1 0|0"),  # unphased homozygotes are fine
]


def test_unphased_heterozygotes(make_vcf, panel, tmp_path, caplog):
    src = make_vcf(UNPHASED)
    out = tmp_path / "s.bcf"
    with pytest.raises(InputError) as err:
        subset_vcf(src, panel, out)
    message = str(err.value)
    assert "3 unphased heterozygous genotypes at 3 of the 5 kept sites" in message
    assert "HG00096 1 unphased, HG00171 1 unphased, NA18526 1 unphased" in message
    assert "unphased: drop_sites" in message and "drop_samples" in message
    assert not out.exists()

    stats = subset_vcf(src, panel, out, unphased="drop_sites")
    assert positions(out) == [300, 500] and stats["dropped_unphased"] == 3

    with caplog.at_level(logging.INFO, logger=LOGGER):
        stats = subset_vcf(src, panel, out, unphased="drop_samples")
    assert "dropping 3 of 8 samples with unphased heterozygous genotypes" in caplog.text
    assert "HG00096 1 unphased, HG00171 1 unphased, NA18526 1 unphased" in caplog.text
    assert stats["n_unphased_samples"] == 3 and stats["n_samples"] == 5
    assert positions(out) == [100, 200, 300, 500]  # 400 is monomorphic without NA18526
    assert stats["dropped_monomorphic"] == 1
    hs = encode(out, panel, tmp_path / "h.npz", tmp_path / "split.tsv")
    assert hs.samples.tolist() == ["HG00097", "HG00173", "NA18486", "NA18488", "NA18525"]
    assert hs.haplotypes[:, 0].tolist() == [1, 0, 1, 1, 0, 0, 0, 1, 1, 0]  # u1 without HG00096

    with pytest.raises(InputError, match=r"5 samples \(10 haplotypes\) chosen after dropping "
                                         "those samples, fewer than min_haplotypes = 12"):  # fmt: skip
        subset_vcf(src, panel, out, unphased="drop_samples", min_haplotypes=12)
    with pytest.raises(InputError, match="unphased is 'maybe'"):
        subset_vcf(src, panel, out, unphased="maybe")


# -------------------------------------------------------------------------------------------
# 6. missing genotypes: counted per site and sample, filtered, the rest filled in
# -------------------------------------------------------------------------------------------

MISSING = [
    (100, "m2", "A", "G", "./. 1|0 0|0 1|1 0|0 0|1 1|0 0|0"),  # 2 of 16 alleles missing
    (200, "m4", "A", "G", ".|. .|. 0|0 1|1 0|0 0|1 1|0 0|0"),  # 4 of 16
    (300, "dot", "A", "G", "0|1 1|0 . 1|1 0|0 0|1 1|0 0|0"),  # a bare '.': 2 of 16
    (400, "half", "A", "G", "0|1 1|. 0|0 1|1 0|0 0|1 1|0 0|0"),  # 1 of 16
    (500, "full", "A", "G", POLY),
]


def test_missing_genotypes_are_counted_filtered_and_filled_in(make_vcf, panel, tmp_path, caplog):
    src = make_vcf(MISSING)
    out = tmp_path / "s.bcf"
    with caplog.at_level(logging.INFO, logger=LOGGER):
        stats = subset_vcf(src, panel, out)  # max_missing 0: any missing allele drops the site
    assert positions(out) == [500] and stats["dropped_missing"] == 4
    assert (
        "9 missing alleles at 4 biallelic SNP records, in 3 samples (HG00096 4 missing, HG00097 "
        "3 missing, HG00171 2 missing); max_missing = 0 drops sites with more than 0 of 16"
    ) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        stats = subset_vcf(src, panel, out, max_missing=0.13)
    assert positions(out) == [100, 300, 400, 500]
    assert stats["dropped_missing"] == 1 and stats["n_missing_alleles"] == 5
    assert (
        "5 missing alleles at 3 of 4 kept sites (at most 2 of 16 haplotypes at one site), in "
        "3 samples (HG00096 2 missing, HG00171 2 missing, HG00097 1 missing)"
    ) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        hs = encode(out, panel, tmp_path / "h.npz", tmp_path / "split.tsv", seed=5)
    assert set(np.unique(hs.haplotypes)) == {0, 1}
    assert hs.meta["n_imputed_alleles"] == "5"
    assert "filled in 5 missing alleles" in caplog.text
    called = np.array([column(MISSING[i][4]) for i in (0, 2, 3, 4)]).T
    known = called >= 0
    assert (~known).sum() == 5
    np.testing.assert_array_equal(hs.haplotypes[known], called[known])  # calls kept as they are
    again = encode(out, panel, tmp_path / "h2.npz", tmp_path / "split2.tsv", seed=5)
    np.testing.assert_array_equal(again.haplotypes, hs.haplotypes)  # same seed, same fill
    assert HaplotypeSet.load(tmp_path / "h.npz").haplotypes.min() == 0


def test_filled_in_alleles_follow_the_site_frequency(make_vcf, panel, tmp_path):
    src = make_vcf(
        [
            (100, "all_alt", "A", "G", "./. 1|1 1|1 1|1 1|1 1|1 1|1 1|1"),
            (200, "all_ref", "A", "G", "0|0 .|. 0|0 0|0 0|0 0|0 0|0 0|0"),
            (300, "poly", "A", "G", POLY),
        ]
    )
    hs = encode(src, panel, tmp_path / "h.npz", tmp_path / "s.tsv")
    assert hs.haplotypes[:2, 0].tolist() == [1, 1] and hs.haplotypes[2:4, 1].tolist() == [0, 0]
    with pytest.raises(InputError, match="4 missing alleles"):
        read_haplotypes(src)  # the exact reader still refuses them
    # frequencies come from the training haplotypes only: the test half leaks nothing into them
    populations = [s[1] for s in TINY_SAMPLES]
    train = split_individuals(populations, test_fraction=0.5, seed=3) == "train"
    first_train = int(np.flatnonzero(train)[0])
    genotypes = ["1|1" if t else "0|0" for t in train]
    genotypes[first_train] = "./."
    src = make_vcf([(100, "train_alt", "A", "G", " ".join(genotypes))], name="leak.vcf.gz")
    hs = encode(src, panel, tmp_path / "l.npz", tmp_path / "l.tsv", test_fraction=0.5, seed=3)
    assert (hs.split == "train").tolist() == train.tolist()
    assert hs.haplotypes[2 * first_train : 2 * first_train + 2, 0].tolist() == [1, 1]
    nothing = make_vcf([(100, "none", "A", "G", " ".join(["./."] * 8))], name="none.vcf.gz")
    with pytest.raises(InputError, match="1 site.* no called allele"):
        encode(nothing, panel, tmp_path / "n.npz", tmp_path / "n.tsv")
    assert not (tmp_path / "n.npz").exists()


# -------------------------------------------------------------------------------------------
# 7. populations without samples, panel samples missing from the VCF, too few haplotypes
# -------------------------------------------------------------------------------------------


def test_population_and_sample_mismatches(make_vcf, tmp_path, caplog):
    src = make_vcf([(100, "a", "A", "G", POLY)])
    extra = [(f"NA9{i:04d}", "CEU", "EUR", "female") for i in range(7)]
    _, panel = write_panels(tmp_path, TINY_SAMPLES + extra)  # 7 CEU samples the VCF lacks
    out = tmp_path / "s.bcf"
    with pytest.raises(InputError) as err:
        subset_vcf(src, panel, out, populations=["YRI", "CEU"])
    assert "population CEU has no sample in" in str(err.value)
    assert "the panel lists 7 (NA90000, NA90001, NA90002, NA90003, NA90004, ...)" in str(err.value)
    assert "remove CEU from the dataset's populations" in str(err.value)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        stats = subset_vcf(src, panel, out, super_populations=["EUR"])
    assert stats["n_samples"] == 4 and stats["n_missing_samples"] == 7
    assert (
        "7 chosen panel samples are not in the VCF and are skipped (first: NA90000, "
        "NA90001, NA90002, NA90003, NA90004)"
    ) in caplog.text
    with pytest.raises(InputError, match="unknown population code.*XYZ"):
        subset_vcf(src, panel, out, populations=["XYZ"])
    with pytest.raises(InputError, match=r"2 samples \(4 haplotypes\) chosen, fewer than "
                                         "min_haplotypes = 20"):  # fmt: skip
        subset_vcf(src, panel, out, populations=["YRI"], min_haplotypes=20)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        fetch_source({"vcf": str(src), "panel": str(panel)}, None, {},
                     tmp_path / "o.vcf.gz", tmp_path / "o.tsv")  # fmt: skip
    assert "7 of 15 panel samples are not in the VCF (first: NA90000" in caplog.text


# -------------------------------------------------------------------------------------------
# 8. symbolic and * alleles, a deletion that starts before the region
# -------------------------------------------------------------------------------------------


def test_symbolic_alleles_and_edge_deletions_stay_out(make_vcf, panel, tmp_path):
    src = make_vcf(
        [
            (500, "before", "C", "T", POLY),
            (990, "del_over_start", "ACGTACGTACGTACGTACGTA", "A", POLY),  # spans 990-1010
            (1000, "cn0", "A", "<CN0>", POLY),
            (1100, "del", "C", "<DEL>", POLY),
            (1200, "alu", "G", "<INS:ME:ALU>", POLY),
            (1300, "star", "T", "*", POLY),
            (1350, "bnd", "G", "G]2:5000]", POLY),
            (1400, "snp_star", "A", "G,*", "0|1 0|2 0|0 1|1 0|0 0|1 2|0 0|0"),
            (1500, "snp1", "C", "T", POLY),
            (1700, "snp2", "G", "A", POLY),
            (1995, "del_over_end", "ACGTACGTAC", "A", POLY),
            (2001, "after", "C", "T", POLY),
        ],
        extra_header=[
            '##ALT=<ID=DEL,Description="Deletion">',
            '##ALT=<ID=INS:ME:ALU,Description="Alu insertion">',
        ],
    )
    region = "2:1000-2000"
    fetch_source({"vcf": str(src), "panel": str(panel)}, region, {},
                 tmp_path / "source.vcf.gz", tmp_path / "panel.tsv")  # fmt: skip
    assert positions(tmp_path / "source.vcf.gz")[0] == 990  # overlaps, so the index returns it
    stats = subset_vcf(tmp_path / "source.vcf.gz", tmp_path / "panel.tsv", tmp_path / "s.bcf",
                       region)  # fmt: skip
    kept = positions(tmp_path / "s.bcf")
    assert kept == [1500, 1700] and all(1000 <= p <= 2000 for p in kept)
    assert stats["dropped_outside_region"] == 1 and stats["dropped_symbolic"] == 5
    assert stats["dropped_multi_allelic"] == 1 and stats["dropped_not_snp"] == 1


# -------------------------------------------------------------------------------------------
# 9. monomorphic sites: dropped with a count; metrics and losses stay finite
# -------------------------------------------------------------------------------------------


def test_monomorphic_after_choosing_samples_are_dropped(make_vcf, panel, tmp_path, caplog):
    src = make_vcf(
        [
            (100, "gbr_alt", "A", "G", "0|1 1|0 0|0 0|0 0|0 0|0 0|0 0|0"),
            (200, "yri_alt", "A", "G", "0|0 0|0 0|0 0|0 1|1 0|1 0|0 0|0"),
            (300, "gbr_fixed", "A", "G", "1|1 1|1 0|0 0|0 0|1 0|0 0|0 0|0"),
        ]
    )
    with caplog.at_level(logging.INFO, logger=LOGGER):
        stats = subset_vcf(src, panel, tmp_path / "s.bcf", populations=["GBR"], min_haplotypes=4)
    assert positions(tmp_path / "s.bcf") == [100] and stats["dropped_monomorphic"] == 2
    assert "dropped 2: monomorphic in the chosen samples" in caplog.text


def _with_monomorphic_columns(n_hap=40, n_var=12, seed=0):
    rng = np.random.default_rng(seed)
    hap = (rng.random((n_hap, n_var)) < 0.3).astype(np.int8)
    hap[:, 3] = 0  # all REF
    hap[:, 7] = 1  # all ALT
    return hap


def test_metrics_have_no_nan_on_monomorphic_columns():
    real, ag = _with_monomorphic_columns(seed=0), _with_monomorphic_columns(seed=1)
    ag[:, 5] = 0  # monomorphic in the AGs only
    r2 = metrics.ld_r2_matrix(real)
    assert np.isfinite(r2).all() and (r2[3] == 0).all() and (r2[:, 7] == 0).all()
    assert r2[0, 0] == pytest.approx(1.0)
    i, j = np.array([3, 5, 0]), np.array([4, 7, 1])
    pairs = metrics.ld_r2_pairs(ag, i, j)
    assert pairs[:2].tolist() == [0.0, 0.0] and pairs[2] == pytest.approx(r2_of(ag, 0, 1))
    fit = metrics.fit_pca(real, n_components=3)
    assert np.isfinite(fit.transform(ag)).all() and np.isfinite(fit.explained_variance_ratio).all()
    assert np.abs(fit.components[:, [3, 7]]).max() < 1e-6  # no variance, no loading
    agreement = metrics.allele_frequency_agreement(real, ag)
    assert np.isfinite(list(agreement.values())).all()
    assert metrics.pearson_r(np.zeros(5), np.arange(5.0)) == 0.0
    aa = metrics.adversarial_accuracy(real, ag)
    assert all(np.isfinite(v) for v in aa.values())
    corr = metrics.three_point_correlation(real, np.array([2, 3]), np.array([3, 5]),
                                           np.array([7, 9]))  # fmt: skip
    assert np.isfinite(corr).all() and corr[1] == 0.0  # a monomorphic site: no correlation


def r2_of(hap, a, b):
    return np.corrcoef(hap[:, a], hap[:, b])[0, 1] ** 2


def _hapset(hap, split):
    n_samples = hap.shape[0] // 2
    return HaplotypeSet(
        haplotypes=hap, chrom=["2"] * hap.shape[1], pos=np.arange(1, hap.shape[1] + 1) * 100,
        id=[f"rs{i}" for i in range(hap.shape[1])], ref=["A"] * hap.shape[1],
        alt=["G"] * hap.shape[1], samples=[f"S{i}" for i in range(n_samples)],
        population=["P"] * n_samples, super_population=["X"] * n_samples,
        split=split if split is not None else ["train"] * n_samples, meta={"dataset": "mono"},
    )  # fmt: skip


def test_evaluate_and_training_losses_stay_finite_with_monomorphic_columns(tmp_path):
    real = _hapset(_with_monomorphic_columns(seed=0), ["train", "test"] * 10)
    real.save(tmp_path / "real.npz")
    ag = _with_monomorphic_columns(seed=1)
    ag[:, 5] = 0
    _hapset(ag, [""] * 20).save(tmp_path / "ag.npz")
    result = run_evaluate(tmp_path / "real.npz", tmp_path / "ag.npz", tmp_path / "m.json",
                          tmp_path / "fig", model="x", dataset="mono", n_triplets=50)  # fmt: skip
    text = (tmp_path / "m.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["n_variants"] == 12 and result is not None
    for name, settings in (
        ("gan", {"epochs": 2, "batch_size": 8, "latent_size": 8}),
        ("rbm", {"epochs": 2, "batch_size": 8, "n_hidden": 4, "n_chains": 8, "gibbs_steps": 2}),
    ):
        out = tmp_path / name
        training.train(name, real.train(), settings, out / "model.pt", out / "training.tsv",
                       out / "ckpt.pt", seed=1, threads=1)  # fmt: skip
        losses = pd.read_csv(out / "training.tsv", sep="\t").drop(columns=["epoch", "seconds"])
        assert np.isfinite(losses.to_numpy()).all() and len(losses) == 2


# -------------------------------------------------------------------------------------------
# 10. bad config: refused at start, naming the key
# -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["model_settings"]["gan"].update(epochs=-5), "['gan']['epochs']"),
        (lambda d: d["model_settings"]["rbm"].update(n_hiden=10), "'n_hiden' was unexpected"),
        (lambda d: d.update(unphased="maybe"), "['tiny']['unphased']"),
        (lambda d: d.update(max_missing=1.5), "['tiny']['max_missing']"),
        (None, "'min_maff' was unexpected"),  # a typo at the top level
    ],
)
def test_bad_settings_are_refused_at_start(tmp_path, change, named):
    config = tiny_config()
    if change is None:
        config["min_maff"] = 0.05
    else:
        change(config["datasets"]["tiny"])
    proc = snakemake(make_workdir(tmp_path, config), "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert named in proc.stdout + proc.stderr
    assert "rule download" not in proc.stdout  # nothing planned


# -------------------------------------------------------------------------------------------
# 11-12. non-finite loss; a model too large for memory
# -------------------------------------------------------------------------------------------


def test_non_finite_loss_stops_with_model_epoch_and_hint(tmp_path):
    data = _hapset(_with_monomorphic_columns(seed=2), None)
    with pytest.raises(training.TrainingDivergedError) as err:
        training.train("rbm", data, {"epochs": 3, "batch_size": 8, "n_hidden": 4, "n_chains": 8,
                                     "learning_rate": 1e38}, tmp_path / "model.pt",
                       tmp_path / "training.tsv", tmp_path / "ckpt.pt", threads=1)  # fmt: skip
    message = str(err.value)
    assert "model 'rbm': non-finite loss at epoch 1" in message
    assert "fix: lower the learning rate(s) of 'rbm'" in message
    assert not (tmp_path / "model.pt").exists() and not (tmp_path / "training.tsv").exists()


def test_model_too_large_for_memory_is_refused_before_training(tmp_path):
    hap = np.zeros((64, 20000), dtype=np.int8)
    hap[::2] = 1
    data = _hapset(hap, None)
    # the GAN's layers on 20,000 SNPs hold about 1.3e9 weights: refused before any is allocated
    with pytest.raises(InputError) as err:
        training.train("gan", data, {"epochs": 1, "max_memory_gb": 2}, tmp_path / "model.pt",
                       tmp_path / "training.tsv", tmp_path / "ckpt.pt", threads=1)  # fmt: skip
    message = str(err.value)
    assert "training gan on 64 haplotypes x 20000 variants needs about" in message
    assert "more than the limit max_memory_gb=2" in message
    assert "fewer SNPs" in message and "raise max_memory_gb" in message
    assert not list(tmp_path.iterdir())  # no checkpoint, no partial output


# -------------------------------------------------------------------------------------------
# The workflow: the first rule fails with the message, nothing runs after it
# -------------------------------------------------------------------------------------------


def test_workflow_stops_at_the_first_rule_with_the_message(tmp_path):
    config = tiny_config()
    config["datasets"]["tiny"]["region"] = "chr2:136600000-136620000"
    workdir = make_workdir(tmp_path, config)
    proc = snakemake(workdir, "--cores", "1", check=False)
    assert proc.returncode != 0
    log = (workdir / "logs" / "download" / "tiny.log").read_text()
    assert "names contig 'chr2' but" in log and "calls it '2'" in log and "fix:" in log
    assert not (workdir / "results" / "data" / "tiny" / "source.vcf.gz").exists()
    assert not (workdir / "logs" / "subset").exists()


def test_workflow_passes_unphased_and_fills_in_missing(tmp_path):
    """dataset keys unphased and max_missing reach the subset step; encode fills in the rest."""
    names = SAMPLES
    src = write_vcf_text(tmp_path / "in.vcf.gz", UNPHASED + [(600, "m", "A", "G",
                         "0|1 1|. 0|0 1|1 0|0 0|1 1|0 0|0")], names)  # fmt: skip
    panel = write_panels(tmp_path)[0]
    config = tiny_config()
    tiny = config["datasets"]["tiny"]
    tiny.update(source={"vcf": str(src), "panel": str(panel)}, region="2:1-1000",
                unphased="drop_sites", max_missing=0.1, min_maf=0.0)  # fmt: skip
    del tiny["populations"]
    config["min_haplotypes"] = 4
    (tmp_path / "wd").mkdir()
    workdir = make_workdir(tmp_path / "wd", config)
    snakemake(workdir, "results/data/tiny/haplotypes.npz", "--cores", "1")
    subset_log = (workdir / "logs" / "subset" / "tiny.log").read_text()
    assert "dropped 3: unphased heterozygous genotype (unphased: drop_sites)" in subset_log
    assert "1 missing alleles at 1 of 3 kept sites" in subset_log
    assert "filled in 1 missing alleles" in (workdir / "logs" / "encode" / "tiny.log").read_text()
    hs = HaplotypeSet.load(workdir / "results" / "data" / "tiny" / "haplotypes.npz")
    assert hs.pos.tolist() == [300, 500, 600] and set(np.unique(hs.haplotypes)) == {0, 1}
