"""subset: the filters on the tiny cohort, counted per reason, and the errors it must raise."""

import logging

import pysam
import pytest

from artificial_genomes.errors import InputError
from artificial_genomes.subset import subset_vcf


def kept_positions(bcf):
    with pysam.VariantFile(str(bcf)) as vf:
        return [rec.pos for rec in vf], list(vf.header.samples)


def test_subset_counts_each_reason(tiny_vcf, tmp_path):
    out = tmp_path / "subset.bcf"
    stats = subset_vcf(tiny_vcf.vcf, tiny_vcf.panel, out, region=tiny_vcf.region)
    positions, samples = kept_positions(out)
    assert positions == tiny_vcf.kept == [1000, 1700, 1900, 1950]
    assert samples == tiny_vcf.samples
    assert (tmp_path / "subset.bcf.csi").exists()
    assert stats == {
        "n_records": 13,
        "n_sites": 4,
        "n_samples": 8,
        "n_haplotypes": 16,
        "n_missing_samples": 0,
        "dropped_outside_region": 1,  # the deletion at 995
        "dropped_multi_allelic": 1,
        "dropped_symbolic": 2,  # <CN0> and *
        "dropped_no_alt": 0,
        "dropped_not_snp": 1,
        "dropped_missing": 0,
        "dropped_monomorphic": 2,  # all REF, all ALT
        "dropped_maf": 0,
        "dropped_duplicate_position": 2,  # both records at 1600
    }


def test_subset_populations_and_maf(tiny_vcf, tmp_path):
    out = tmp_path / "eur.bcf"
    stats = subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, tiny_vcf.region,
                       super_populations=["EUR"])  # fmt: skip
    positions, samples = kept_positions(out)
    assert samples == ["HG00096", "HG00097", "HG00171", "HG00173"]
    assert positions == [1000, 1700, 1950]  # the YRI-only SNP is monomorphic in EUR
    assert stats["dropped_monomorphic"] == 3
    # union of a population and a super-population
    stats = subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, tiny_vcf.region,
                       populations=["YRI"], super_populations=["EAS"])  # fmt: skip
    positions, samples = kept_positions(out)
    assert samples == ["NA18486", "NA18488", "NA18525", "NA18526"]
    assert positions == [1000, 1900, 1950]  # rs_rare's ALT is only in HG00096
    # rs_rare has MAF 1/16 = 0.0625 in all samples
    stats = subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, tiny_vcf.region, min_maf=0.07)
    assert kept_positions(out)[0] == [1000, 1900, 1950] and stats["dropped_maf"] == 1
    stats = subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, tiny_vcf.region, min_maf=0.06)
    assert stats["n_sites"] == 4


def test_subset_without_region(tiny_vcf, tmp_path):
    out = tmp_path / "all.bcf"
    stats = subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out)
    assert kept_positions(out)[0] == [500, 1000, 1700, 1900, 1950, 2100]
    assert stats["dropped_outside_region"] == 0
    assert stats["dropped_not_snp"] == 2  # the indel, and the deletion at 995


def test_subset_missing_genotypes(make_vcf, tiny_vcf, tmp_path):
    vcf = make_vcf(
        [
            (100, "a", "A", "G", "0|1 1|0 0|0 1|1 .|0 0|1 1|0 0|0"),
            (200, "b", "A", "G", "0|1 1|0 0|0 1|1 0|0 0|1 1|0 0|0"),
        ]
    )
    out = tmp_path / "m.bcf"
    stats = subset_vcf(vcf, tiny_vcf.panel_tsv, out, "2:1-1000")
    assert kept_positions(out)[0] == [200] and stats["dropped_missing"] == 1
    stats = subset_vcf(vcf, tiny_vcf.panel_tsv, out, "2:1-1000", max_missing=0.1)  # 1/16 missing
    assert kept_positions(out)[0] == [100, 200] and stats["dropped_missing"] == 0


def test_subset_errors(make_vcf, tiny_vcf, tmp_path, caplog):
    out = tmp_path / "e.bcf"
    with pytest.raises(InputError, match=r"names contig 'chr2' but .* calls it '2'"):
        subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, "chr2:1000-2000")
    with pytest.raises(InputError, match=r"contig '3' of the region is not in .*contigs: 2\)"):
        subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, "3:1000-2000")
    with pytest.raises(InputError, match="unknown population code.*XYZ") as err:
        subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, populations=["XYZ"])
    assert "CHB, FIN, GBR, YRI" in str(err.value)
    with pytest.raises(InputError, match=r"region 2:1100-1100 holds 0 variants after filters "
                                         r"\(1 before; monomorphic"):  # fmt: skip
        subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, "2:1100-1100")
    with pytest.raises(InputError, match="fewer than min_haplotypes = 10"):
        subset_vcf(tiny_vcf.vcf, tiny_vcf.panel_tsv, out, populations=["YRI"], min_haplotypes=10)
    unphased = make_vcf(
        [
            (100, "a", "A", "G", "0/1 1|0 0|0 1/1 0|0 0|1 1|0 0|0"),  # 0/1 counts, 1/1 does not
            (200, "b", "A", "G", "0|1 1|0 0|0 1|1 0/0 1/0 1|0 0|0"),
        ],
        name="unphased.vcf.gz",
    )
    with pytest.raises(InputError, match="2 unphased heterozygous genotypes"):
        subset_vcf(unphased, tiny_vcf.panel_tsv, out)
    assert not out.exists()
    # panel samples missing from the VCF: a warning while some remain, an error when none do
    panel = tmp_path / "panel_extra.tsv"
    panel.write_text(tiny_vcf.panel_tsv.read_text() + "NA99999\tYRI\tAFR\nNA99998\tCEU\tEUR\n")
    with caplog.at_level(logging.WARNING):
        stats = subset_vcf(tiny_vcf.vcf, panel, out, tiny_vcf.region)
    assert stats["n_missing_samples"] == 2 and stats["n_samples"] == 8
    assert "2 chosen panel samples are not in the VCF" in caplog.text and "NA99999" in caplog.text
    with pytest.raises(InputError, match="none of the 1 chosen panel samples"):
        subset_vcf(tiny_vcf.vcf, panel, out, populations=["CEU"])
