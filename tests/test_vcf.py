"""vcf: written VCFs read back with bcftools and plink; .hapt against the published files; round
trips VCF -> subset -> encode -> VCF on the tiny cohort and on the real LCT data."""

import os
import subprocess
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from artificial_genomes.download import read_panel
from artificial_genomes.encode import encode, read_haplotypes
from artificial_genomes.errors import InputError
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.subset import subset_vcf
from artificial_genomes.vcf import read_hapt, read_legend, write_hapt, write_vcf
from workflow_utils import LCT_VCF, PANEL, RESOURCES

Y805 = RESOURCES / "yelmen805"
QUERY = "%CHROM\t%POS\t%ID\t%REF\t%ALT[\t%GT]\n"


def query(path, *extra):
    """Sites and genotypes as the Debian bcftools binary prints them."""
    return subprocess.run(["bcftools", "query", *extra, "-f", QUERY, str(path)],
                          check=True, capture_output=True, text=True).stdout  # fmt: skip


def small_set():
    haplotypes = np.array(
        [[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1], [1, 0, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0]],
        dtype=np.int8,
    )  # 3 individuals x 4 SNPs on two contigs
    return HaplotypeSet(
        haplotypes=haplotypes,
        chrom=["2", "2", "2", "15"],
        pos=[100, 250, 250, 7],
        id=["rs1", "", "rs3", "rs4"],
        ref=["A", "C", "C", "G"],
        alt=["G", "T", "A", "A"],
        samples=["AG_000001", "AG_000002", "AG_000003"],
        population=[""] * 3,
        super_population=[""] * 3,
        split=[""] * 3,
    )


def test_write_vcf_reads_back_with_bcftools(tmp_path):
    out = tmp_path / "ag" / "ag.vcf.gz"
    write_vcf(small_set(), out, ["##artificial_genomes_model=gan"])
    assert query(out) == (
        "2\t100\trs1\tA\tG\t0|1\t0|1\t1|0\n"
        "2\t250\t.\tC\tT\t1|1\t0|0\t1|0\n"
        "2\t250\trs3\tC\tA\t1|0\t0|1\t1|0\n"
        "15\t7\trs4\tG\tA\t0|0\t1|1\t1|0\n"
    )
    header = subprocess.run(["bcftools", "view", "-h", str(out)], check=True,
                            capture_output=True, text=True).stdout  # fmt: skip
    assert header.startswith("##fileformat=VCFv4.2\n")
    assert "##contig=<ID=2>\n##contig=<ID=15>\n" in header
    assert "##artificial_genomes_model=gan\n" in header
    assert header.rstrip().endswith("FORMAT\tAG_000001\tAG_000002\tAG_000003")
    region = subprocess.run(["bcftools", "view", "-H", "-r", "15", str(out)], check=True,
                            capture_output=True, text=True).stdout  # fmt: skip
    assert region.startswith("15\t7\trs4")  # the .tbi works
    assert sorted(os.listdir(out.parent)) == ["ag.vcf.gz", "ag.vcf.gz.tbi"]


def test_write_vcf_reads_back_with_plink(tmp_path):
    hs = small_set()
    out = tmp_path / "ag.vcf.gz"
    write_vcf(hs, out)
    prefix = tmp_path / "plink"
    # plink 1.9 splits sample ids at "_" into FID/IID unless told --double-id
    flags = ["--double-id", "--keep-allele-order", "--allow-extra-chr"]
    subprocess.run(["plink1.9", "--vcf", out, *flags, "--make-bed", "--out", prefix],
                   check=True, capture_output=True)  # fmt: skip
    subprocess.run(["plink1.9", "--bfile", prefix, *flags, "--recode", "A", "--out", prefix],
                   check=True, capture_output=True)  # fmt: skip
    fam = pd.read_csv(f"{prefix}.fam", sep=r"\s+", header=None)
    assert fam[1].tolist() == hs.samples.tolist()
    bim = pd.read_csv(f"{prefix}.bim", sep=r"\s+", header=None, dtype=str)
    assert bim[3].astype(int).tolist() == [100, 250, 250, 7]
    raw = pd.read_csv(f"{prefix}.raw", sep=r"\s+")
    alt_counts = hs.haplotypes[0::2] + hs.haplotypes[1::2]  # (individuals, SNPs)
    np.testing.assert_array_equal(raw.iloc[:, 6:].to_numpy(), alt_counts)


def test_write_vcf_refuses(tmp_path):
    hs = small_set()
    bad = HaplotypeSet(**{**hs.__dict__, "haplotypes": hs.haplotypes * 2})
    with pytest.raises(InputError, match="only 0"):
        write_vcf(bad, tmp_path / "a.vcf.gz")
    unsorted = HaplotypeSet(**{**hs.__dict__, "pos": np.array([100, 250, 20, 7])})
    with pytest.raises(InputError, match="not sorted"):
        write_vcf(unsorted, tmp_path / "a.vcf.gz")
    with pytest.raises(InputError, match="one '##' line"):
        write_vcf(hs, tmp_path / "a.vcf.gz", ["model=gan"])
    assert not list(tmp_path.iterdir())


def test_write_vcf_speed(tmp_path):
    rng = np.random.default_rng(0)
    n, m = 2500, 8000
    hs = HaplotypeSet(
        haplotypes=(rng.random((2 * n, m)) < 0.2).astype(np.int8),
        chrom=np.full(m, "2"), pos=np.arange(1, m + 1) * 10, id=np.full(m, "."),
        ref=np.full(m, "A"), alt=np.full(m, "G"),
        samples=np.array([f"AG_{i:06d}" for i in range(1, n + 1)]),
        population=np.full(n, ""), super_population=np.full(n, ""), split=np.full(n, ""),
    )  # fmt: skip
    start = time.perf_counter()
    write_vcf(hs, tmp_path / "big.vcf.gz")
    elapsed = time.perf_counter() - start
    assert elapsed < 15, f"writing 5000 x 8000 took {elapsed:.1f} s"  # about 1 s measured
    _, haplotypes, _ = read_haplotypes(tmp_path / "big.vcf.gz")
    np.testing.assert_array_equal(haplotypes, hs.haplotypes)


def test_hapt_matches_published_real_file(tmp_path):
    """Encoding the bundled 805-SNP VCF and writing it in legend order gives back, byte for
    byte, the published 805_SNP_1000G_real.hapt."""
    labels, ids, matrix = read_hapt(Y805 / "805_SNP_1000G_real.hapt.zip", Y805 / "805_SNP.legend")
    assert matrix.shape == (5008, 805) and matrix.dtype == np.int8
    assert set(labels) == {"Real"} and ids[:3].tolist() == ["HG00096_A", "HG00096_B", "HG00097_A"]
    legend = read_legend(Y805 / "805_SNP.legend")
    sites, haplotypes, samples = read_haplotypes(Y805 / "805_SNP_1000G_real.phased.vcf.gz")
    column = {i: c for c, i in enumerate(sites["id"])}
    order = [column[i] for i in legend["id"]]
    hs = HaplotypeSet(
        haplotypes=haplotypes[:, order], **{k: v[order] for k, v in sites.items()},
        samples=samples, population=[""] * len(samples), super_population=[""] * len(samples),
        split=[""] * len(samples),
    )  # fmt: skip
    write_hapt(hs, tmp_path / "real.hapt", label="Real")
    with zipfile.ZipFile(Y805 / "805_SNP_1000G_real.hapt.zip") as archive:
        published = archive.read(archive.namelist()[0])
    assert (tmp_path / "real.hapt").read_bytes() == published
    np.testing.assert_array_equal(matrix, hs.haplotypes)
    # the published GAN AGs: 5000 rows, ids AG0, AG1, ...
    labels, ids, gan = read_hapt(Y805 / "805_SNP_GAN_AG_20000epochs.hapt.zip")
    assert gan.shape == (5000, 805) and ids[:2].tolist() == ["AG0", "AG1"] and labels[0] == "AG"


def test_hapt_round_trip_plain_and_zip(tmp_path):
    hs = small_set()
    write_hapt(hs, tmp_path / "ag.hapt")
    text = (tmp_path / "ag.hapt").read_text()
    assert text.splitlines()[:2] == ["AG AG_000001_A 0 1 1 0", "AG AG_000001_B 1 1 0 0"]
    with zipfile.ZipFile(tmp_path / "ag.hapt.zip", "w") as archive:
        archive.writestr("ag.hapt", text)
    for path in (tmp_path / "ag.hapt", tmp_path / "ag.hapt.zip"):
        labels, ids, matrix = read_hapt(path)
        np.testing.assert_array_equal(matrix, hs.haplotypes)
        assert ids[-1] == "AG_000003_B" and set(labels) == {"AG"}
    (tmp_path / "ragged.hapt").write_text("AG a 0 1 1\nAG b 0 1\n")
    with pytest.raises(InputError, match="different numbers of SNPs"):
        read_hapt(tmp_path / "ragged.hapt")
    with pytest.raises(InputError, match="lists 805"):
        read_hapt(tmp_path / "ag.hapt", Y805 / "805_SNP.legend")


def test_round_trip_tiny(tiny_vcf, tmp_path):
    """VCF -> subset -> encode -> write_vcf gives back the subset's sites and genotypes."""
    subset = tmp_path / "subset.bcf"
    subset_vcf(tiny_vcf.vcf, tiny_vcf.panel, subset, tiny_vcf.region)
    hs = encode(subset, tiny_vcf.panel, tmp_path / "h.npz", tmp_path / "split.tsv")
    write_vcf(hs, tmp_path / "back.vcf.gz")
    back = query(tmp_path / "back.vcf.gz")
    assert back == query(subset)
    assert [int(line.split("\t")[1]) for line in back.splitlines()] == tiny_vcf.kept
    # the same rows straight from the source, as the fixture wrote them
    source = query(tiny_vcf.vcf, "-i", "ID=@" + str(_ids_file(tmp_path, hs.id)))
    assert back == source


def _ids_file(tmp_path, ids):
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(ids) + "\n")
    return path


def test_round_trip_lct_eur_and_known_frequency(tmp_path):
    """Real 1KGP data: EUR samples of the LCT region. The sites and genotypes written back equal
    an independent bcftools (command line) selection of biallelic polymorphic SNPs, and
    rs4988235 (-13910 C/T, 2:136608646 G>A) has ALT frequency 0.508 in the 503 EUR individuals."""
    region = "2:136401418-136699902"
    panel = read_panel(PANEL)
    eur = panel.loc[panel["super_population"] == "EUR", "sample"]
    subset = tmp_path / "eur.bcf"
    stats = subset_vcf(LCT_VCF, PANEL, subset, region, super_populations=["EUR"])
    hs = encode(subset, PANEL, tmp_path / "h.npz", tmp_path / "split.tsv", seed=1)
    assert hs.n_samples == 503 and hs.haplotypes.shape == (1006, stats["n_sites"])
    (site,) = np.flatnonzero(hs.pos == 136608646)
    assert (hs.id[site], hs.ref[site], hs.alt[site]) == ("rs4988235", "G", "A")
    assert round(float(hs.haplotypes[:, site].mean()), 3) == 0.508
    assert (hs.split == "test").sum() == 100  # 20% of GBR 91, FIN 99, CEU 99, IBS 107, TSI 107
    write_vcf(hs, tmp_path / "back.vcf.gz")
    samples = tmp_path / "eur.txt"
    samples.write_text("\n".join(eur) + "\n")
    independent = subprocess.run(
        f"bcftools view -r {region} -S {samples} -Ou {LCT_VCF} | "
        f"bcftools view -m2 -M2 -v snps -c 1:minor -Ou | bcftools query -f '{QUERY}'",
        shell=True, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    back = query(tmp_path / "back.vcf.gz")
    assert back == independent
    assert len(back.splitlines()) == stats["n_sites"] == 1650
