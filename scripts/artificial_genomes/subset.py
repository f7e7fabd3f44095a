"""Keep the biallelic SNPs of the chosen samples in a region that pass the filters.

bcftools (through pysam) cuts the region and the samples out of the source into a temporary BCF;
every record of it is then classified in one pass over its genotypes (read as in
:mod:`.encode`), and the kept records are copied unchanged into the output BCF. Each record that
goes is counted under the first reason that applies, in this order:

1. ``outside_region``: POS outside the region (an indel that starts before the region overlaps
   it, so the index query returns it);
2. ``multi_allelic``: more than one ALT allele (bcftools ``-M2``);
3. ``symbolic``: a symbolic (``<CN0>``), breakend or ``*`` (spanning deletion) ALT;
4. ``no_alt``: ALT is ``.`` (bcftools ``-m2``);
5. ``not_snp``: REF or ALT is not one of A, C, G, T (bcftools ``-v snps``);
6. ``missing``: a larger fraction of missing alleles in the chosen samples than ``max_missing``;
7. ``monomorphic``: no ALT, or only ALT, among the chosen samples;
8. ``maf``: minor-allele frequency in the chosen samples below ``min_maf``;
9. ``duplicate_position``: two or more remaining SNP records at one position (e.g. a tri-allelic
   site split into biallelic records). None of them is kept: one 0/1 column cannot code three
   alleles, and keeping the first would call carriers of the other ALT "REF".
"""

import logging
import tempfile
from pathlib import Path

import numpy as np
import pysam

from .download import (
    bcftools,
    check_contig,
    format_region,
    local_contigs,
    parse_region,
    read_panel,
    vcf_samples,
)
from .encode import read_genotypes
from .errors import InputError
from .fileio import atomic_path

log = logging.getLogger(__name__)

REASONS = {
    "outside_region": "POS outside the region (record overlaps its edge)",
    "multi_allelic": "more than one ALT allele",
    "symbolic": "symbolic, breakend or * ALT allele",
    "no_alt": "no ALT allele",
    "not_snp": "not a SNP (indel, MNP or non-ACGT allele)",
    "missing": "too many missing genotypes",
    "monomorphic": "monomorphic in the chosen samples",
    "maf": "minor-allele frequency below min_maf",
    "duplicate_position": "duplicated position (all copies dropped)",
}
_BASES = {"A", "C", "G", "T"}


def choose_samples(panel, populations=(), super_populations=()) -> list[str]:
    """Panel samples of the chosen populations or super-populations (all when both are empty).

    A sample is chosen when its population is in ``populations`` *or* its super-population is in
    ``super_populations``.

    Raises
    ------
    InputError
        A code that the panel does not know (the known codes are listed).
    """
    populations, super_populations = list(populations or ()), list(super_populations or ())
    for codes, column, what in (
        (populations, "population", "population"),
        (super_populations, "super_population", "super-population"),
    ):
        known = sorted(set(panel[column]))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise InputError(
                f"unknown {what} code(s): {', '.join(map(str, unknown))}",
                f"use codes from the panel: {', '.join(known)}",
            )
    if not populations and not super_populations:
        return panel["sample"].tolist()
    chosen = panel["population"].isin(populations) | panel["super_population"].isin(
        super_populations
    )
    return panel.loc[chosen, "sample"].tolist()


def subset_vcf(
    vcf_in,
    panel_tsv,
    bcf_out,
    region: str | None = None,
    populations=(),
    super_populations=(),
    min_maf: float = 0.0,
    max_missing: float = 0.0,
    min_haplotypes: int = 2,
) -> dict:
    """Write the biallelic, polymorphic SNPs of the chosen samples in ``region`` as an indexed BCF.

    Parameters
    ----------
    vcf_in : path
        Source VCF/BCF (indexed or not; with an index only the region is read).
    panel_tsv : path
        Sample panel (normalised TSV or any layout :func:`.download.read_panel` reads).
    bcf_out : path
        Output BCF; its index is written to ``bcf_out + ".csi"``.
    region : str, optional
        ``chrom:start-end`` (1-based, inclusive) or ``chrom``; None keeps every contig.
    populations, super_populations : sequence of str
        Codes of the panel; samples of either are kept. Both empty: every panel sample that is
        in the VCF.
    min_maf : float
        Minimum minor-allele frequency in the chosen samples (monomorphic sites always go).
    max_missing : float
        Largest fraction of missing alleles a site may have in the chosen samples. The encode
        step refuses missing genotypes, so anything above 0 only makes sense for other uses.
    min_haplotypes : int
        Fewest haplotypes (two per chosen sample) to go on with.

    Returns
    -------
    dict
        ``n_records`` (in the region, chosen samples), ``n_sites`` (kept), ``n_samples``,
        ``n_haplotypes``, ``n_missing_samples`` (chosen panel samples absent from the VCF) and
        ``dropped_<reason>`` for each reason of the module docstring.

    Raises
    ------
    InputError
        Unknown population codes, contig name mismatch, no chosen sample in the VCF, fewer
        haplotypes than ``min_haplotypes``, unphased heterozygous genotypes at kept sites, or
        no site left after the filters.
    """
    if not 0.0 <= min_maf <= 0.5:
        raise InputError(f"min_maf is {min_maf}", "use a value between 0 and 0.5")
    if not 0.0 <= max_missing < 1.0:
        raise InputError(f"max_missing is {max_missing}", "use a fraction in [0, 1)")
    parsed = parse_region(region)
    panel = read_panel(panel_tsv)
    chosen = choose_samples(panel, populations, super_populations)
    samples, n_absent = _present_samples(vcf_in, chosen, panel_tsv)
    n_haplotypes = 2 * len(samples)
    if n_haplotypes < min_haplotypes:
        raise InputError(
            f"{len(samples)} samples ({n_haplotypes} haplotypes) chosen, fewer than "
            f"min_haplotypes = {min_haplotypes}",
            "choose more populations or lower min_haplotypes",
        )
    contigs, indexed = local_contigs(vcf_in)
    args = ["-s", ",".join(samples)]
    if parsed is not None:
        check_contig(parsed[0], contigs, str(vcf_in))
        if indexed:
            args += ["-r", format_region(*parsed)]
        else:
            args += ["-t", format_region(*parsed), "--targets-overlap", "1"]
    with tempfile.TemporaryDirectory(prefix="ag_subset.") as tmp:
        stage = Path(tmp) / "region.bcf"
        bcftools("view", *args, "-W", "-Ob", "-o", stage, vcf_in, what=str(vcf_in))
        keep, reasons, n_unphased = _classify(stage, parsed, min_maf, max_missing, n_haplotypes)
        counts = {f"dropped_{name}": int((reasons == i).sum()) for i, name in enumerate(REASONS)}
        n_records, n_sites = len(keep), int(keep.sum())
        _log_counts(n_records, n_sites, counts, region)
        where = f"region {region}" if region else str(vcf_in)
        if n_sites == 0:
            why = "; ".join(f"{REASONS[k[8:]]}: {v}" for k, v in counts.items() if v)
            raise InputError(
                f"{where} holds 0 variants after filters ({n_records} before; {why or 'none'})",
                "check the region, populations and filters (min_maf, max_missing)",
            )
        if n_unphased:
            raise InputError(
                f"{where} holds {n_unphased} unphased heterozygous genotypes at kept sites",
                "phase the VCF first (e.g. SHAPEIT5 or Beagle): the models learn haplotypes",
            )
        _write_kept(stage, keep, bcf_out)
    stats = {
        "n_records": n_records,
        "n_sites": n_sites,
        "n_samples": len(samples),
        "n_haplotypes": n_haplotypes,
        "n_missing_samples": n_absent,
        **counts,
    }
    log.info("subset: kept %d of %d sites and %d samples (%d haplotypes) -> %s",
             n_sites, n_records, len(samples), n_haplotypes, bcf_out)  # fmt: skip
    return stats


def _present_samples(vcf_in, chosen: list[str], panel_tsv) -> tuple[list[str], int]:
    """The chosen samples found in the VCF, in the VCF's column order, and the count missing."""
    in_vcf = vcf_samples(vcf_in)
    chosen_set = set(chosen)
    present = [s for s in in_vcf if s in chosen_set]
    absent = [s for s in chosen if s not in set(in_vcf)]
    if not present:
        raise InputError(
            f"none of the {len(chosen)} chosen panel samples is in {vcf_in} "
            f"(panel: {', '.join(chosen[:3])}, ...; VCF: {', '.join(in_vcf[:3])}, ...)",
            f"give the panel that belongs to this VCF ({panel_tsv}), or other populations",
        )
    if absent:
        log.warning(
            "%d chosen panel samples are not in the VCF and are skipped (first: %s)",
            len(absent), ", ".join(absent[:5]),
        )  # fmt: skip
    n_other = len(in_vcf) - len(present)
    log.info("samples: %d chosen and in the VCF; %d other VCF samples left out",
             len(present), n_other)  # fmt: skip
    return present, len(absent)


def _classify(stage, parsed, min_maf, max_missing, n_haplotypes):
    """Keep mask, reason code per record (index into REASONS, -1 kept), unphased het count."""
    reason_blocks, pos_blocks, chrom_blocks, unphased_blocks = [], [], [], []
    code = {name: i for i, name in enumerate(REASONS)}
    for sites, alleles, phased in read_genotypes(stage):
        k = len(sites["pos"])
        reason = np.full(k, -1, dtype=np.int8)

        def mark(mask, name, reason=reason):
            reason[(reason < 0) & mask] = code[name]

        pos, alt, ref = sites["pos"], sites["alt"], sites["ref"]
        if parsed is not None and parsed[1] is not None:
            mark((pos < parsed[1]) | (pos > parsed[2]), "outside_region")
        mark(np.array(["," in a for a in alt]), "multi_allelic")
        mark(np.array([a.startswith("<") or a == "*" or "[" in a or "]" in a for a in alt]),
             "symbolic")  # fmt: skip
        mark(np.array([a == "." for a in alt]), "no_alt")
        mark(np.array([r not in _BASES or a not in _BASES for r, a in zip(ref, alt)]), "not_snp")
        called = alleles >= 0
        n_called = called.sum(axis=(1, 2))
        mark((n_haplotypes - n_called) > max_missing * n_haplotypes, "missing")
        n_alt = (alleles == 1).sum(axis=(1, 2))
        mark((n_alt == 0) | (n_alt == n_called), "monomorphic")
        maf = np.minimum(n_alt, n_called - n_alt) / np.maximum(n_called, 1)
        mark(maf < min_maf, "maf")
        het = called.all(axis=2) & (alleles[..., 0] != alleles[..., 1])
        unphased_blocks.append((het & ~phased).sum(axis=1))
        reason_blocks.append(reason)
        pos_blocks.append(pos)
        chrom_blocks.append(np.asarray(sites["chrom"]))
    if not reason_blocks:
        return np.zeros(0, bool), np.zeros(0, np.int8), 0
    reasons = np.concatenate(reason_blocks)
    pos, chrom = np.concatenate(pos_blocks), np.concatenate(chrom_blocks)
    # duplicated positions among the records still kept
    kept = np.flatnonzero(reasons < 0)
    keys = np.char.add(np.char.add(chrom[kept], ":"), pos[kept].astype(str))
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    reasons[kept[counts[inverse] > 1]] = code["duplicate_position"]
    keep = reasons < 0
    n_unphased = int(np.concatenate(unphased_blocks)[keep].sum())
    return keep, reasons, n_unphased


def _log_counts(n_records: int, n_sites: int, counts: dict, region) -> None:
    log.info("%d records in %s for the chosen samples", n_records, region or "the whole file")
    for key, value in counts.items():
        if value:
            log.info("  dropped %d: %s", value, REASONS[key[len("dropped_") :]])
    log.info("  kept %d biallelic polymorphic SNPs", n_sites)


def _write_kept(stage: Path, keep: np.ndarray, bcf_out) -> None:
    """Copy the kept records of ``stage`` (same order as ``keep``) into ``bcf_out`` + ``.csi``."""
    bcf_out = Path(bcf_out)
    with atomic_path(bcf_out) as tmp_bcf, atomic_path(f"{bcf_out}.csi") as tmp_csi:
        src = pysam.VariantFile(str(stage))
        with src, pysam.VariantFile(str(tmp_bcf), "wb", header=src.header) as dst:
            for record, wanted in zip(src, keep, strict=True):
                if wanted:
                    dst.write(record)
        bcftools("index", "-f", "-c", "-o", tmp_csi, tmp_bcf)
