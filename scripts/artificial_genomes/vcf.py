"""Write haplotype sets as phased VCF and as the 2021 paper's ``.hapt`` text; read ``.hapt``.

The VCF text is built with numpy: each genotype ``a|b`` plus its separator is four bytes, so a
block of variants is one array of bytes, written through BGZF and indexed with tabix.

``.hapt`` layout (Yelmen et al. 2021): one row per haplotype, space-separated: a label (``Real``,
``AG``), an id (``HG00096_A``; the published AGs use ``AG0``, ``AG1``, ...), then one 0/1 value per
SNP in legend order (1 = ALT). The legend that goes with it has the header ``id position a0 a1``
and ids ``chrom:pos_a0_a1``.
"""

import io
import logging
import os
import zipfile
from pathlib import Path

import numpy as np
import pysam

from . import __version__
from .errors import InputError
from .fileio import atomic_path
from .haplotypes import HaplotypeSet

log = logging.getLogger(__name__)

BLOCK = 1024  # variants (VCF) or haplotypes (hapt) formatted at a time
# BGZF compression level of written VCFs: level 1 compresses 5000 haplotypes x 8000 SNPs in
# under a second where the default level 6 takes about 6 s, for files about 40% larger.
BGZF_MODE = "wb1"
_ZERO, _PIPE, _TAB, _NEWLINE, _SPACE = ord("0"), ord("|"), ord("\t"), ord("\n"), ord(" ")


def _check_writable(hapset: HaplotypeSet) -> None:
    """Refuse what a VCF cannot hold: non-0/1 values, unsorted sites, bad sample ids."""
    values = np.unique(hapset.haplotypes)
    if not np.isin(values, (0, 1)).all():
        raise InputError(
            f"haplotypes hold values {values.tolist()}; a VCF of this package holds only 0 "
            "(REF) and 1 (ALT)",
            "round or threshold the generated values to 0/1 before writing",
        )
    samples = hapset.samples
    if len(set(samples.tolist())) != len(samples) or any(
        not s or any(c.isspace() for c in s) for s in samples
    ):
        raise InputError(
            "sample ids must be unique and non-empty, without whitespace",
            "name samples like AG_000001",
        )
    for name in ("ref", "alt"):
        if any(not a for a in getattr(hapset, name)):
            raise InputError(f"some {name.upper()} alleles are empty", "fill in the alleles")
    chrom, pos = hapset.chrom, hapset.pos
    if len(pos):
        change = np.flatnonzero(chrom[1:] != chrom[:-1]) + 1
        order = chrom[np.r_[0, change]]
        unsorted = (np.diff(pos) < 0) & (chrom[1:] == chrom[:-1])
        if len(set(order.tolist())) != len(order) or unsorted.any():
            raise InputError(
                "variants are not sorted (contigs must be contiguous, positions ascending)",
                "sort the variants by contig and position before writing",
            )


def _contig_order(chrom: np.ndarray) -> list[str]:
    _, first = np.unique(chrom, return_index=True)
    return [str(chrom[i]) for i in sorted(first)]


def vcf_header(hapset: HaplotypeSet, header_lines=()) -> str:
    """The VCF header text of :func:`write_vcf` (ending with the ``#CHROM`` line)."""
    lines = ["##fileformat=VCFv4.2", f"##source=artificial_genomes {__version__}"]
    lines += [f"##contig=<ID={c}>" for c in _contig_order(hapset.chrom)]
    for line in header_lines:
        line = str(line).rstrip("\n")
        if not line.startswith("##") or "\n" in line:
            raise InputError(f"header line {line!r} is not one '##' line", "start it with ##")
        lines.append(line)
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">')
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
    lines.append("\t".join(columns + hapset.samples.tolist()))
    return "\n".join(lines) + "\n"


def _genotype_rows(haplotypes: np.ndarray) -> np.ndarray:
    """(2n, k) int8 haplotypes -> (k, 4n) bytes ``a|b\\t...a|b\\n`` per variant."""
    n_hap, k = haplotypes.shape
    pairs = haplotypes.T.reshape(k, n_hap // 2, 2)
    text = np.empty((k, n_hap // 2, 4), dtype=np.uint8)
    text[..., 0] = pairs[..., 0] + _ZERO
    text[..., 1] = _PIPE
    text[..., 2] = pairs[..., 1] + _ZERO
    text[..., 3] = _TAB
    text[:, -1, 3] = _NEWLINE
    return text.reshape(k, -1)


def write_vcf(hapset: HaplotypeSet, path, header_lines: list[str] = ()) -> None:
    """Write a set as a bgzipped, tabix-indexed VCF of phased diploid individuals (GT only).

    Individual ``i`` (``hapset.samples[i]``) gets genotype ``h[2i]|h[2i+1]``. Both the VCF and its
    ``.tbi`` are written under temporary names and renamed when whole.

    Parameters
    ----------
    hapset : HaplotypeSet
        haplotypes int8 (2 * n_samples, n_variants) of 0/1; sites sorted by contig and position.
    path : path
        Output ``.vcf.gz``; the index goes to ``path + ".tbi"``.
    header_lines : list of str
        Extra ``##key=value`` lines (e.g. ``##artificial_genomes_model=gan``).

    Raises
    ------
    InputError
        Values other than 0/1, unsorted sites, duplicated or empty sample ids, bad header lines.
    """
    _check_writable(hapset)
    header = vcf_header(hapset, header_lines).encode()
    ids = [i or "." for i in hapset.id.tolist()]
    prefixes = [
        f"{c}\t{p}\t{i}\t{r}\t{a}\t.\t.\t.\tGT\t".encode()
        for c, p, i, r, a in zip(
            hapset.chrom.tolist(), hapset.pos.tolist(), ids, hapset.ref.tolist(),
            hapset.alt.tolist(), strict=True,
        )
    ]  # fmt: skip
    path = Path(path)
    with atomic_path(path) as tmp_vcf, atomic_path(f"{path}.tbi") as tmp_tbi:
        with pysam.BGZFile(str(tmp_vcf), BGZF_MODE) as out:
            out.write(header)
            for start in range(0, hapset.n_variants, BLOCK):
                rows = _genotype_rows(hapset.haplotypes[:, start : start + BLOCK])
                out.write(b"".join(p + row.tobytes() for p, row in zip(prefixes[start:], rows)))
        pysam.tabix_index(str(tmp_vcf), preset="vcf", force=True, keep_original=True)
        os.replace(f"{tmp_vcf}.tbi", tmp_tbi)
    log.info("wrote %d individuals x %d variants to %s",
             hapset.n_samples, hapset.n_variants, path)  # fmt: skip


def write_hapt(hapset: HaplotypeSet, path, label: str = "AG") -> None:
    """Write the 2021 paper's ``.hapt`` text: ``<label> <sample>_A|_B g1 g2 ...`` per haplotype.

    Parameters
    ----------
    hapset : HaplotypeSet
        haplotypes int8 (2 * n_samples, n_variants) of 0/1.
    path : path
        Plain-text output (written atomically).
    label : str
        First column (``Real`` for real genomes in the published files, ``AG`` for artificial).
    """
    haplotypes = hapset.haplotypes
    if not np.isin(np.unique(haplotypes), (0, 1)).all():
        raise InputError("haplotypes hold values other than 0 and 1", "round them to 0/1")
    names = [f"{s}_{side}" for s in hapset.samples.tolist() for side in "AB"]
    n_hap, n_var = haplotypes.shape
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        for start in range(0, n_hap, BLOCK):
            block = haplotypes[start : start + BLOCK]
            text = np.full((len(block), max(2 * n_var, 1)), _SPACE, dtype=np.uint8)
            text[:, 0 : 2 * n_var : 2] = block + _ZERO
            text[:, -1] = _NEWLINE
            out.write(
                b"".join(
                    f"{label} {name} ".encode() + row.tobytes()
                    for name, row in zip(names[start:], text)
                )
            )
    log.info("wrote %d haplotypes x %d SNPs to %s", n_hap, n_var, path)


def _open_hapt_bytes(path_or_zip) -> bytes:
    path = Path(path_or_zip)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            hapt = [m for m in members if m.endswith(".hapt")] or members
            if len(hapt) != 1:
                raise InputError(
                    f"{path} holds {len(hapt)} candidate .hapt files ({', '.join(hapt[:5])})",
                    "give a zip with one .hapt file",
                )
            return archive.read(hapt[0])
    return path.read_bytes()


def read_hapt(path_or_zip, legend_path=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a ``.hapt`` file, plain or zipped (the published AG files are zips).

    Parameters
    ----------
    path_or_zip : path
        ``.hapt`` text, or a zip holding one ``.hapt`` file.
    legend_path : path, optional
        Legend (``id position a0 a1``); when given, its row count must match the SNP count.

    Returns
    -------
    labels : numpy.ndarray, str, shape (n_haplotypes,)
        First column (``Real``, ``AG``).
    ids : numpy.ndarray, str, shape (n_haplotypes,)
        Second column (``HG00096_A``, ``AG0``).
    matrix : numpy.ndarray, int8, shape (n_haplotypes, n_snps)
        0/1 values, 1 = ALT (``a1`` of the legend).

    Raises
    ------
    InputError
        Ragged rows, values other than 0/1, or a SNP count that differs from the legend's.
    """
    lines = [line for line in _open_hapt_bytes(path_or_zip).splitlines() if line.strip()]
    labels, ids, values = [], [], []
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise InputError(f"{path_or_zip}: row {line[:40]!r} has no genotypes", "check the file")
        labels.append(parts[0].decode())
        ids.append(parts[1].decode())
        values.append(parts[2].rstrip())
    matrix = None
    if len({len(v) for v in values}) == 1:  # fast path: one-character values, single spaces
        raw = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), -1)
        if (raw[:, 1::2] == _SPACE).all():
            matrix = raw[:, 0::2].astype(np.int16) - _ZERO
    if matrix is None:
        matrix = _parse_hapt_slow(values, path_or_zip)
    if not np.isin(np.unique(matrix), (0, 1)).all():
        raise InputError(f"{path_or_zip} holds values other than 0 and 1", "check the file")
    matrix = matrix.astype(np.int8)
    if legend_path is not None:
        n_legend = len(read_legend(legend_path)["pos"])
        if n_legend != matrix.shape[1]:
            raise InputError(
                f"{path_or_zip} has {matrix.shape[1]} SNPs but the legend {legend_path} lists "
                f"{n_legend}",
                "give the legend that belongs to this .hapt file",
            )
    return np.array(labels), np.array(ids), matrix


def _parse_hapt_slow(values: list[bytes], path) -> np.ndarray:
    rows = [np.array(v.split(), dtype=np.int16) for v in values]
    if len({len(r) for r in rows}) != 1:
        raise InputError(
            f"{path}: rows hold different numbers of SNPs ({sorted({len(r) for r in rows})[:5]})",
            "check that the file is whole",
        )
    return np.vstack(rows)


def read_legend(path) -> dict:
    """Read a ``.legend`` file (``id position a0 a1``; ids ``chrom:pos_a0_a1``).

    Returns
    -------
    dict
        ``chrom``, ``id``, ``ref`` (= a0), ``alt`` (= a1) as numpy str arrays and ``pos`` as int64,
        shape (n_snps,), in file order.
    """
    text = Path(path).read_text()
    rows = [line.split() for line in io.StringIO(text) if line.strip()]
    header, body = rows[0], rows[1:]
    if header[:4] != ["id", "position", "a0", "a1"]:
        raise InputError(
            f"{path} starts with {' '.join(header)!r}, not 'id position a0 a1'",
            "give a legend file of the 2021 paper's layout",
        )
    ids = np.array([r[0] for r in body])
    return {
        "chrom": np.array([i.split(":", 1)[0] if ":" in i else "" for i in ids]),
        "pos": np.array([int(r[1]) for r in body], dtype=np.int64),
        "id": ids,
        "ref": np.array([r[2] for r in body]),
        "alt": np.array([r[3] for r in body]),
    }


def write_artificial(ags, vcf_out, npz_out, hapt_out, header_lines=()) -> None:
    """Write a set of AGs in the three forms the workflow keeps: indexed VCF, ``.npz``, ``.hapt``.

    Parameters
    ----------
    ags : HaplotypeSet
        The AGs (see :meth:`HaplotypeSet.artificial`).
    vcf_out, npz_out, hapt_out : str or path-like
        Destinations; each is written atomically.
    header_lines : sequence of str
        ``##key=value`` lines for the VCF header (model, settings, seed, dataset).
    """
    write_vcf(ags, vcf_out, header_lines)
    ags.save(npz_out)
    write_hapt(ags, hapt_out)
