"""Tests of importing the published 2021 AGs onto a dataset's sites."""

import numpy as np
import pysam
import pytest

from artificial_genomes import vcf
from artificial_genomes.encode import encode
from artificial_genomes.errors import InputError
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.published import import_published
from artificial_genomes.subset import subset_vcf
from workflow_utils import PANEL, RESOURCES

YELMEN = RESOURCES / "yelmen805"
LEGEND = YELMEN / "805_SNP.legend"
GAN_ZIP = YELMEN / "805_SNP_GAN_AG_20000epochs.hapt.zip"


def _outputs(directory):
    return {
        "vcf_out": directory / "ag.vcf.gz",
        "npz_out": directory / "ag.npz",
        "hapt_out": directory / "ag.hapt",
    }


def test_published_gan_on_the_805_snp_dataset(tmp_path):
    bcf = tmp_path / "subset.bcf"
    subset_vcf(YELMEN / "805_SNP_1000G_real.phased.vcf.gz", PANEL, bcf)
    encode(bcf, PANEL, tmp_path / "haplotypes.npz", tmp_path / "split.tsv")
    real = HaplotypeSet.load(tmp_path / "haplotypes.npz")
    assert real.n_variants == 802  # the 3 fixed-ALT sites of the 805 are dropped

    out = _outputs(tmp_path / "published_gan")
    ag = import_published(GAN_ZIP, LEGEND, tmp_path / "haplotypes.npz", **out,
                          model="published_gan", dataset="yelmen805")  # fmt: skip
    assert ag.haplotypes.shape == (5000, 802)

    legend = vcf.read_legend(LEGEND)
    _, ids, published = vcf.read_hapt(GAN_ZIP, LEGEND)
    assert ids[:2].tolist() == ["AG0", "AG1"]
    column = {(c, p): i for i, (c, p) in enumerate(zip(legend["chrom"], legend["pos"]))}
    kept = [column[(c, p)] for c, p in zip(real.chrom, real.pos)]
    assert len(set(kept)) == 802
    assert np.array_equal(ag.haplotypes, published[:, kept])
    dropped = sorted(set(range(805)) - set(kept))
    _, _, real_805 = vcf.read_hapt(YELMEN / "805_SNP_1000G_real.hapt.zip", LEGEND)
    assert len(dropped) == 3 and (real_805[:, dropped] == 1).all()  # fixed ALT in all 5008

    saved = HaplotypeSet.load(out["npz_out"])
    assert np.array_equal(saved.haplotypes, ag.haplotypes)
    assert saved.samples[[0, -1]].tolist() == ["AG_000001", "AG_002500"]
    assert saved.meta["model"] == "published_gan"
    assert np.array_equal(saved.pos, real.pos) and np.array_equal(saved.alt, real.alt)
    _, hapt_ids, hapt = vcf.read_hapt(out["hapt_out"])
    assert np.array_equal(hapt, ag.haplotypes)
    assert hapt_ids[:2].tolist() == ["AG_000001_A", "AG_000001_B"]
    with pysam.VariantFile(str(out["vcf_out"])) as reader:
        assert "##ag_model=published_gan" in str(reader.header)
        record = next(iter(reader))
        assert (record.chrom, record.pos) == (real.chrom[0], int(real.pos[0]))
        first = record.samples["AG_000001"]["GT"]
        assert first == tuple(int(x) for x in ag.haplotypes[:2, 0])
    assert (tmp_path / "published_gan" / "ag.vcf.gz.tbi").exists()


def _tiny(tmp_path, legend_rows, real_sites):
    """A 4-haplotype ``.hapt`` over ``legend_rows`` and a 2-sample dataset at ``real_sites``."""
    legend = tmp_path / "tiny.legend"
    legend.write_text(
        "id position a0 a1\n"
        + "".join(f"{c}:{p}_{a}_{b} {p} {a} {b}\n" for c, p, a, b in legend_rows)
    )
    hapt = tmp_path / "tiny.hapt"
    # column j holds bit j of the row number: every column differs from the others
    matrix = (np.arange(4)[:, None] >> np.arange(len(legend_rows))) & 1
    hapt.write_text(
        "".join(f"AG AG{i} {' '.join(map(str, row))}\n" for i, row in enumerate(matrix))
    )
    n = len(real_sites)
    real = HaplotypeSet(
        haplotypes=np.zeros((4, n), dtype=np.int8),
        chrom=[s[0] for s in real_sites], pos=[s[1] for s in real_sites],
        id=["."] * n, ref=[s[2] for s in real_sites], alt=[s[3] for s in real_sites],
        samples=["S1", "S2"], population=["P", "P"], super_population=["X", "X"],
        split=["train", "test"],
    )  # fmt: skip
    real.save(tmp_path / "real.npz")
    return hapt, legend, matrix


def test_columns_follow_the_dataset_order_not_the_legend(tmp_path):
    rows = [("2", 300, "A", "G"), ("1", 100, "C", "T"), ("1", 200, "G", "A")]
    hapt, legend, matrix = _tiny(tmp_path, rows, [("1", 100, "C", "T"), ("2", 300, "A", "G")])
    ag = import_published(hapt, legend, tmp_path / "real.npz", **_outputs(tmp_path / "out"))
    assert np.array_equal(ag.haplotypes, matrix[:, [1, 0]])


def test_other_alleles_or_missing_sites_are_refused(tmp_path):
    rows = [("1", 100, "C", "T"), ("1", 200, "G", "A")]
    hapt, legend, _ = _tiny(tmp_path, rows, [("1", 100, "T", "C"), ("1", 200, "G", "A")])
    with pytest.raises(InputError, match=r"other REF/ALT.*1:100 T>C vs C>T"):
        import_published(hapt, legend, tmp_path / "real.npz", **_outputs(tmp_path / "a"))
    hapt, legend, _ = _tiny(tmp_path, rows, [("1", 100, "C", "T"), ("chr1", 200, "G", "A")])
    with pytest.raises(InputError, match=r"1 of 2 sites of the dataset are not in .*chr1:200"):
        import_published(hapt, legend, tmp_path / "real.npz", **_outputs(tmp_path / "b"))
    assert not (tmp_path / "a" / "ag.npz").exists()  # nothing written on refusal
