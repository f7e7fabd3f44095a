"""encode: exact haplotype matrix, stratified split by individual, refusal of bad genotypes."""

import numpy as np
import pandas as pd
import pytest

from artificial_genomes.encode import encode, read_genotypes, split_individuals
from artificial_genomes.errors import InputError
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.subset import subset_vcf


def expected_matrix(records, positions):
    """Hand decoding of the fixture's genotype strings: row 2i = left allele of sample i."""
    columns = []
    for pos in positions:
        gts = next(r[4] for r in records if r[0] == pos).split()
        columns.append([int(a) for gt in gts for a in gt.split("|")])
    return np.array(columns, dtype=np.int8).T


def test_encode_exact_matrix_and_labels(tiny_vcf, tmp_path):
    bcf = tmp_path / "subset.bcf"
    subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, bcf, tiny_vcf.region)
    hs = encode(bcf, tiny_vcf.panel_tsv, tmp_path / "h.npz", tmp_path / "split.tsv",
                test_fraction=0.5, seed=3, meta={"dataset": "tiny"})  # fmt: skip
    assert hs.haplotypes.dtype == np.int8 and hs.haplotypes.shape == (16, 4)
    np.testing.assert_array_equal(hs.haplotypes, expected_matrix(tiny_vcf.records, tiny_vcf.kept))
    assert hs.pos.tolist() == [1000, 1700, 1900, 1950]
    assert hs.id.tolist() == ["rs1", "rs_rare", "rs_yri", "rs2"]
    assert hs.ref.tolist() == ["A", "C", "T", "G"] and hs.alt.tolist() == ["G", "A", "G", "C"]
    assert hs.chrom.tolist() == ["2"] * 4
    assert hs.samples.tolist() == tiny_vcf.samples
    assert hs.population.tolist() == ["GBR", "GBR", "FIN", "FIN", "YRI", "YRI", "CHB", "CHB"]
    assert hs.super_population.tolist()[4:6] == ["AFR", "AFR"]
    # two individuals per population, test_fraction 0.5: one test and one train in each
    for pop in ("GBR", "FIN", "YRI", "CHB"):
        assert sorted(hs.split[hs.population == pop]) == ["test", "train"]
    assert hs.meta["dataset"] == "tiny" and hs.meta["n_test"] == "4"
    loaded = HaplotypeSet.load(tmp_path / "h.npz")
    np.testing.assert_array_equal(loaded.haplotypes, hs.haplotypes)
    assert loaded.split.tolist() == hs.split.tolist()
    table = pd.read_csv(tmp_path / "split.tsv", sep="\t")
    assert table.columns.tolist() == ["sample", "population", "super_population", "split"]
    assert table["split"].tolist() == hs.split.tolist()


def test_split_stratified_seeded():
    population = np.array(["A"] * 10 + ["B"] * 5 + ["C"] * 1 + ["D"] * 2)
    split = split_individuals(population, test_fraction=0.2, seed=7)
    n_test = {p: int((split[population == p] == "test").sum()) for p in "ABCD"}
    assert n_test == {"A": 2, "B": 1, "C": 0, "D": 0}  # round(0.4) = 0 for D
    split_half = split_individuals(population, test_fraction=0.5, seed=7)
    n_test = {p: int((split_half[population == p] == "test").sum()) for p in "ABCD"}
    assert n_test == {"A": 5, "B": 3, "C": 0, "D": 1}  # round(2.5) = 3; C keeps its only one
    split_most = split_individuals(population, test_fraction=0.95, seed=7)
    assert all((split_most[population == p] == "train").sum() == 1 for p in "ABCD")
    assert split_individuals(population, 0.2, 7).tolist() == split.tolist()
    assert split_individuals(population, 0.2, 8).tolist() != split.tolist()
    with pytest.raises(InputError, match="test_fraction"):
        split_individuals(population, 1.0)


@pytest.mark.parametrize(
    ("genotypes", "message"),
    [
        ("0|1 1|0 0|0 1/0 0|0 0|1 1|0 0|0", "1 unphased heterozygous"),
        ("0|1 1|0 0|0 1|1 0 0|1 1|0 0|0", "is not diploid"),
        ("0|1 2|0 0|0 1|1 0|0 0|1 1|0 0|0", "1 alleles other than REF"),
    ],
)
def test_encode_refuses(make_vcf, tiny_vcf, tmp_path, genotypes, message):
    alt = "G,T" if "2|" in genotypes else "G"
    vcf = make_vcf([(100, "a", "A", alt, genotypes)])
    with pytest.raises(InputError, match=message):
        encode(vcf, tiny_vcf.panel_tsv, tmp_path / "h.npz", tmp_path / "s.tsv")
    assert not (tmp_path / "h.npz").exists()


def test_read_genotypes_slow_path(make_vcf):
    """Allele indices >= 10 and a bare '.' leave the fixed-width parser; values stay exact."""
    alts = ",".join("CGT"[i % 3] * (i // 3 + 2) for i in range(11))  # 11 distinct ALTs
    vcf = make_vcf(
        [
            (100, "a", "A", alts, "0|11 1|0 .|. . 0|1 10|2 1|0 0|0"),
            (200, "b", "A", "G", "0|1 1|0 0|0 1|1 0|0 0|1 1|0 0/0"),
        ]
    )
    (sites, alleles, phased), *rest = list(read_genotypes(vcf, block_size=4096))
    assert not rest and sites["pos"].tolist() == [100, 200] and sites["alt"][1] == "G"
    assert alleles[0].tolist() == [[0, 11], [1, 0], [-1, -1], [-1, -1], [0, 1], [10, 2], [1, 0],
                                   [0, 0]]  # fmt: skip
    assert alleles[1, :, 1].tolist() == [1, 0, 0, 1, 0, 1, 0, 0]
    assert phased[1].tolist() == [True] * 7 + [False]
