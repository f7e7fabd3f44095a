"""Shared fixtures: tiny phased VCFs and panels written into tmp_path.

``tiny_vcf`` is a hand-made cohort of 8 samples (GBR, FIN, YRI, CHB; two each) on contig ``2``
whose records exercise every filter of the subset step. With the region ``2:1000-2000`` and all
samples, exactly 4 biallelic polymorphic SNPs survive (``TINY_KEPT``); see ``TINY_RECORDS`` for
why each other record goes. ``make_vcf`` writes any other small VCF the same way.
"""

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pysam
import pytest

TINY_SAMPLES = [
    ("HG00096", "GBR", "EUR", "male"),
    ("HG00097", "GBR", "EUR", "female"),
    ("HG00171", "FIN", "EUR", "female"),
    ("HG00173", "FIN", "EUR", "female"),
    ("NA18486", "YRI", "AFR", "male"),
    ("NA18488", "YRI", "AFR", "female"),
    ("NA18525", "CHB", "EAS", "female"),
    ("NA18526", "CHB", "EAS", "female"),
]
TINY_REGION = "2:1000-2000"
_POLY = "0|1 1|0 0|0 1|1 0|0 0|1 1|0 0|0"
# (pos, id, ref, alt, genotypes of the 8 samples, fate with region 2:1000-2000 and all samples)
TINY_RECORDS = [
    (500, "rs_before", "A", "G", _POLY, "outside the region"),
    (995, "del_edge", "ACGTACGTAC", "A", _POLY, "POS before the region (overlaps it)"),
    (1000, "rs1", "A", "G", _POLY, "kept"),
    (1100, "rs_mono", "C", "T", "0|0 0|0 0|0 0|0 0|0 0|0 0|0 0|0", "monomorphic"),
    (1200, "indel1", "A", "AT", _POLY, "not a SNP"),
    (1300, "multi", "G", "A,C", "0|1 2|0 0|0 1|1 0|0 0|2 1|0 0|0", "multi-allelic"),
    (1400, "cn0", "A", "<CN0>", _POLY, "symbolic"),
    (1500, "star", "T", "*", _POLY, "symbolic"),
    (1600, "dupA", "G", "A", _POLY, "duplicated position"),
    (1600, "dupT", "G", "T", "1|0 0|0 0|0 0|0 0|0 0|0 0|0 0|1", "duplicated position"),
    (1700, "rs_rare", "C", "A", "0|1 0|0 0|0 0|0 0|0 0|0 0|0 0|0", "kept (MAF 1/16)"),
    (1800, "rs_fixed", "A", "C", "1|1 1|1 1|1 1|1 1|1 1|1 1|1 1|1", "monomorphic (fixed ALT)"),
    (1900, "rs_yri", "T", "G", "0|0 0|0 0|0 0|0 1|0 1|1 0|0 0|0", "kept (ALT only in YRI)"),
    (1950, "rs2", "G", "C", "1|1 0|1 1|0 0|0 0|0 0|0 0|1 1|0", "kept"),
    (2100, "rs_after", "T", "C", _POLY, "outside the region"),
]
TINY_KEPT = [1000, 1700, 1900, 1950]
CONTIG_LENGTH = 243199373  # chr2 of GRCh37


def write_vcf_text(path, records, samples, contig="2", extra_header=(), index=True):
    """Write a small VCF, bgzipped and tabix-indexed when ``path`` ends in ``.gz``.

    Parameters
    ----------
    records : list of tuples
        ``(pos, id, ref, alt, genotypes)``, genotypes a space-separated string with one GT per
        sample, or ``(chrom, pos, id, ref, alt, genotypes)`` for several contigs.
    samples : list of str
    """
    contigs = [contig]
    lines = []
    for record in records:
        chrom, rest = (
            (contig, record) if not isinstance(record[0], str) else (record[0], record[1:])
        )
        pos, vid, ref, alt, gts = rest[:5]
        if chrom not in contigs:
            contigs.append(chrom)
        lines.append("\t".join([chrom, str(pos), vid, ref, alt, ".", "PASS", ".", "GT"])
                     + "\t" + "\t".join(gts.split()))  # fmt: skip
    header = ["##fileformat=VCFv4.2"]
    header += [f"##contig=<ID={c},length={CONTIG_LENGTH}>" for c in contigs]
    header += ['##ALT=<ID=CN0,Description="Copy number 0">', *extra_header]
    header += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">']
    header += ["\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
                         + list(samples))]  # fmt: skip
    text = "\n".join(header + lines) + "\n"
    path = Path(path)
    if str(path).endswith(".gz"):
        plain = path.with_suffix("")
        plain.write_text(text)
        pysam.tabix_compress(str(plain), str(path), force=True)
        plain.unlink()
        if index:
            pysam.tabix_index(str(path), preset="vcf", force=True)
    else:
        path.write_text(text)
    return path


def write_panels(directory, samples=TINY_SAMPLES):
    """Write the phase-3 layout panel and the normalised TSV; return their paths."""
    directory = Path(directory)
    phase3 = directory / "samples.panel"
    phase3.write_text(
        "sample\tpop\tsuper_pop\tgender\t\t\n"
        + "".join(f"{s}\t{p}\t{sp}\t{g}\n" for s, p, sp, g in samples)
    )
    tsv = directory / "panel.tsv"
    tsv.write_text(
        "sample\tpopulation\tsuper_population\n"
        + "".join(f"{s}\t{p}\t{sp}\n" for s, p, sp, _ in samples)
    )
    return phase3, tsv


@pytest.fixture
def make_vcf(tmp_path):
    """Factory: ``make_vcf(records, samples=names, name="x.vcf.gz", **kw)`` -> path in tmp_path."""

    def _make(records, samples=None, name="input.vcf.gz", **kwargs):
        samples = samples or [s[0] for s in TINY_SAMPLES]
        return write_vcf_text(tmp_path / name, records, samples, **kwargs)

    return _make


@pytest.fixture
def tiny_vcf(tmp_path):
    """The tiny cohort: ``vcf`` (bgzipped, .tbi), ``panel`` (phase-3 layout), ``panel_tsv``
    (normalised), ``region``, ``samples``, ``kept`` (positions kept in the region)."""
    directory = tmp_path / "tiny"
    directory.mkdir()
    names = [s[0] for s in TINY_SAMPLES]
    vcf = write_vcf_text(directory / "tiny.vcf.gz", [r[:5] for r in TINY_RECORDS], names)
    panel, panel_tsv = write_panels(directory)
    return SimpleNamespace(
        vcf=vcf,
        panel=panel,
        panel_tsv=panel_tsv,
        region=TINY_REGION,
        samples=names,
        kept=list(TINY_KEPT),
        records=TINY_RECORDS,
    )


_SERVER = textwrap.dedent(
    """
    import functools, http.server, sys
    from RangeHTTPServer import RangeRequestHandler

    class Handler(RangeRequestHandler):
        def log_message(self, fmt, *args):
            with open(sys.argv[2], "a") as log:
                log.write(f"{self.command} {self.path} {self.headers.get('Range')}\\n")

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=sys.argv[1]))
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)


@pytest.fixture
def http_server(tmp_path, monkeypatch):
    """An HTTP server with Range support on 127.0.0.1 serving ``tmp_path / "www"``.

    It runs in a subprocess: pysam runs bcftools in this process without releasing the GIL, so a
    server thread here would never answer. Yields ``(base_url, folder, request_log_path)``.
    """
    for name in ("no_proxy", "NO_PROXY"):  # libcurl and urllib must not send 127.0.0.1 to a proxy
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    root = tmp_path / "www"
    root.mkdir()
    requests = tmp_path / "requests.log"
    requests.touch()
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(root), str(requests)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}", root, requests
    finally:
        proc.terminate()
        proc.wait(timeout=10)
