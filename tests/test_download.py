"""download: region parsing, panels, local sources and a real HTTP server with Range support."""

import gzip
import os

import numpy as np
import pandas as pd
import pysam
import pytest
from conftest import TINY_RECORDS, write_vcf_text

from artificial_genomes import download
from artificial_genomes.download import fetch_source, read_panel
from artificial_genomes.errors import InputError
from artificial_genomes.regions import parse_region
from workflow_utils import PANEL


def positions(path):
    with pysam.VariantFile(str(path)) as vf:
        return [rec.pos for rec in vf]


def test_parse_region():
    assert parse_region("2:136,400,000-136,700,000") == ("2", 136400000, 136700000)
    assert parse_region("chr15") == ("chr15", None, None)
    assert parse_region("2:5-5") == ("2", 5, 5)
    assert parse_region(None) is None
    with pytest.raises(InputError, match="start 10 and end 5"):
        parse_region("2:10-5")
    with pytest.raises(InputError, match="not of the form"):
        parse_region("2:10")


def test_read_panel_phase3_real():
    panel = read_panel(PANEL)
    assert list(panel.columns) == ["sample", "population", "super_population"]
    assert len(panel) == 2504
    assert (panel["super_population"] == "EUR").sum() == 503
    assert panel.iloc[0].tolist() == ["HG00096", "GBR", "EUR"]


def test_read_panel_nygc_ped_drops_children(tmp_path):
    ped = tmp_path / "ped.txt"
    ped.write_text(
        "FamilyID SampleID FatherID MotherID Sex Population Superpopulation\n"
        "F1 DAD1 0 0 1 YRI AFR\n"
        "F1 MOM1 0 0 2 YRI AFR\n"
        "F1 KID1 DAD1 MOM1 1 YRI AFR\n"  # both parents in the file
        "F2 KID2 DAD2 0 2 CEU EUR\n"  # father not in the file: kept
        "F3 KID3 0 MOM1 2 YRI AFR\n"  # one parent in the file: dropped
        "F4 SOLO 0 0 1 CHB EAS\n"
    )
    panel = read_panel(ped)
    assert panel["sample"].tolist() == ["DAD1", "MOM1", "KID2", "SOLO"]
    assert panel.iloc[2].tolist() == ["KID2", "CEU", "EUR"]
    assert len(read_panel(ped, drop_relatives=False)) == 6


def test_read_panel_unknown_layout(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("id group\nA x\n")
    with pytest.raises(InputError, match="cannot tell the layout"):
        read_panel(bad)


def test_fetch_local_region(tiny_vcf, tmp_path):
    out = tmp_path / "out" / "source.vcf.gz"
    panel_out = tmp_path / "out" / "panel.tsv"
    source = {"vcf": str(tiny_vcf.vcf), "panel": str(tiny_vcf.panel)}
    stats = fetch_source(source, "2:1000-2000", {}, out, panel_out)
    in_region = [r[0] for r in TINY_RECORDS if 1000 <= r[0] <= 2000]
    # the deletion at 995 overlaps the region: kept here, dropped by the subset step
    assert positions(out) == [995, *in_region]
    assert stats["n_records"] == 1 + len(in_region) == 13
    assert stats["n_samples"] == stats["n_panel_samples"] == 8
    assert os.path.exists(f"{out}.tbi")
    panel = pd.read_csv(panel_out, sep="\t")
    assert panel.columns.tolist() == ["sample", "population", "super_population"]
    assert panel["population"].tolist() == ["GBR", "GBR", "FIN", "FIN", "YRI", "YRI", "CHB", "CHB"]
    assert not [p for p in os.listdir(out.parent) if ".part" in p]  # no temporary files left


def test_fetch_local_plain_unindexed_and_whole(tiny_vcf, tmp_path):
    plain = write_vcf_text(tmp_path / "plain.vcf", [r[:5] for r in TINY_RECORDS], tiny_vcf.samples)
    source = {"vcf": str(plain), "panel": str(tiny_vcf.panel_tsv)}
    stats = fetch_source(source, "2:1700-1950", {}, tmp_path / "a.vcf.gz", tmp_path / "a.tsv")
    assert positions(tmp_path / "a.vcf.gz") == [1700, 1800, 1900, 1950]
    assert stats["n_records"] == 4
    stats = fetch_source(source, None, {}, tmp_path / "b.vcf.gz", tmp_path / "b.tsv")
    assert stats["n_records"] == len(TINY_RECORDS)
    # plain gzip (not BGZF), and an indexed BCF
    gz = tmp_path / "plain.vcf.gzip.gz"
    with open(plain, "rb") as src, gzip.open(gz, "wb") as dst:
        dst.write(src.read())
    bcf = tmp_path / "tiny.bcf"
    pysam.bcftools.view("-Ob", "-o", str(bcf), str(tiny_vcf.vcf), catch_stdout=False)
    pysam.bcftools.index(str(bcf))
    for path in (gz, bcf):
        source = {"vcf": str(path), "panel": str(tiny_vcf.panel_tsv)}
        fetch_source(source, "2:1700-1950", {}, tmp_path / "c.vcf.gz", tmp_path / "c.tsv")
        assert positions(tmp_path / "c.vcf.gz") == [1700, 1800, 1900, 1950]


def test_fetch_local_errors(tiny_vcf, tmp_path):
    source = {"vcf": str(tiny_vcf.vcf), "panel": str(tiny_vcf.panel)}
    out, panel_out = tmp_path / "x.vcf.gz", tmp_path / "x.tsv"
    with pytest.raises(InputError, match="'chr' prefix"):
        fetch_source(source, "chr2:1000-2000", {}, out, panel_out)
    with pytest.raises(InputError, match="holds 0 records"):
        fetch_source(source, "2:5000-6000", {}, out, panel_out)
    other = tmp_path / "other.tsv"
    other.write_text("sample\tpopulation\tsuper_population\nX1\tYRI\tAFR\n")
    with pytest.raises(InputError, match="none of the 1 panel samples"):
        fetch_source({"vcf": str(tiny_vcf.vcf), "panel": str(other)}, None, {}, out, panel_out)
    assert not out.exists() and not panel_out.exists()


def _serve_big_vcf(root, n_records=5000):
    """A VCF of several BGZF blocks (about 64 kB of text each) with its index and panel."""
    rng = np.random.default_rng(1)
    samples = [f"S{i}" for i in range(8)]
    alleles = rng.integers(0, 2, size=(n_records, 16))
    records = [
        (10 * (i + 1), f"v{i}", "A", "G", " ".join(f"{a}|{b}" for a, b in row.reshape(8, 2)))
        for i, row in enumerate(alleles)
    ]
    write_vcf_text(root / "ALL.chr2.test.vcf.gz", records, samples)
    (root / "test.panel").write_text(
        "sample\tpop\tsuper_pop\tgender\n" + "".join(f"{s}\tYRI\tAFR\tmale\n" for s in samples)
    )
    return records


def _release(base):
    return {
        "test": {
            "vcf_url": base + "/ALL.chr{chrom}.test.vcf.gz",
            "panel_url": base + "/test.panel",
            "panel_format": "phase3",
        }
    }


def test_fetch_remote_streams_only_the_region(http_server, tmp_path, monkeypatch):
    base, root, requests = http_server
    records = _serve_big_vcf(root)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    out = tmp_path / "out" / "source.vcf.gz"
    stats = fetch_source(
        {"release": "test", "chrom": "2"}, "2:49001-49500", _release(base), out, tmp_path / "p.tsv"
    )
    assert positions(out) == list(range(49010, 49501, 10))
    assert stats["n_records"] == 50 and stats["n_samples"] == 8
    assert stats["vcf_url"] == base + "/ALL.chr2.test.vcf.gz"
    with pysam.VariantFile(str(out)) as vf:  # genotypes arrive intact
        first = next(iter(vf))
        assert (
            " ".join(f"{a}|{b}" for a, b in (s["GT"] for s in first.samples.values()))
            == (records[4900][4])
        )
    # htslib jumped to the region's block with a Range request instead of reading from byte 0
    ranges = [line.split()[2] for line in requests.read_text().splitlines() if "bytes=" in line]
    assert ranges and max(int(r.split("=")[1].split("-")[0]) for r in ranges) > 0
    assert os.listdir(cwd) == []  # the remote index was not saved into the working directory
    assert pd.read_csv(tmp_path / "p.tsv", sep="\t")["population"].eq("YRI").all()


def test_fetch_remote_errors(http_server, tmp_path):
    base, root, _ = http_server
    _serve_big_vcf(root, n_records=100)
    releases = _release(base)
    args = (tmp_path / "o.vcf.gz", tmp_path / "o.tsv")
    with pytest.raises(InputError, match=r"404.*ALL\.chr3\.test\.vcf\.gz"):
        fetch_source({"release": "test", "chrom": "3"}, "3:1-100", releases, *args)
    with pytest.raises(InputError, match="'chr' prefix"):
        fetch_source({"release": "test", "chrom": "2"}, "chr2:1-100", releases, *args)
    with pytest.raises(InputError, match="needs a region"):
        fetch_source({"release": "test", "chrom": "2"}, None, releases, *args)
    with pytest.raises(InputError, match="unknown release"):
        fetch_source({"release": "nope", "chrom": "2"}, "2:1-100", releases, *args)
    (root / "ALL.chr2.test.vcf.gz.tbi").unlink()
    with pytest.raises(InputError, match=r"404.*\.tbi"):
        fetch_source({"release": "test", "chrom": "2"}, "2:1-100", releases, *args)


def test_retry_backoff(monkeypatch):
    monkeypatch.setattr(download, "BACKOFF_S", 0.0)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise OSError("connection reset")
        return "ok"

    assert download._retry(flaky, "test", retries=3) == "ok" and len(calls) == 3
    calls.clear()
    with pytest.raises(RuntimeError, match="failed after 2 attempt"):
        download._retry(flaky, "test", retries=2)
