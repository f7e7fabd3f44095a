"""Keep the biallelic SNPs of the chosen samples in a region that pass the filters.

bcftools (through pysam) cuts the region and the samples out of the source into a temporary BCF
(sorted when the source had no usable index and its records were out of order); every record of
it is then classified in one pass over its genotypes (read as in :mod:`.encode`), and the kept
records are copied unchanged into the output BCF. Each record that goes is counted under the
first reason that applies, in this order:

1. ``outside_region``: POS outside the region (an indel that starts before the region overlaps
   it, so the index query returns it);
2. ``multi_allelic``: more than one ALT allele (bcftools ``-M2``);
3. ``symbolic``: a symbolic (``<CN0>``, ``<INS:ME:ALU>``), breakend or ``*`` (spanning deletion)
   ALT;
4. ``no_alt``: ALT is ``.`` (bcftools ``-m2``);
5. ``not_snp``: REF or ALT is not one of A, C, G, T (bcftools ``-v snps``);
6. ``missing``: a larger fraction of missing alleles in the chosen samples than ``max_missing``;
7. ``monomorphic``: no ALT, or only ALT, among the called alleles of the chosen samples;
8. ``maf``: minor-allele frequency in the chosen samples below ``min_maf``;
9. ``unphased``: an unphased heterozygous genotype (``0/1``) among the chosen samples; only with
   ``unphased="drop_sites"`` (by default such genotypes stop the step, see :func:`subset_vcf`);
10. ``duplicate_position``: another SNP record at the same position carries a non-REF allele in
    the chosen samples (a multi-allelic site split into biallelic records, or written both ways).
    None of them is kept: one 0/1 column cannot code three alleles, and keeping one record would
    call carriers of the other ALT "REF". Indels that share a SNP's position do not count (their
    carriers keep the REF base there).

Missing genotypes (``./.``, ``.|.``, ``.``) are counted per site and per sample; sites with more
than ``max_missing`` of them go, and the encode step fills in the few left (see
:func:`.encode.encode`).
"""

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from .download import (
    bcftools,
    check_contig,
    format_region,
    local_contigs,
    read_panel,
    sort_if_unsorted,
    vcf_samples,
)
from .encode import read_genotypes
from .errors import InputError
from .fileio import atomic_path
from .regions import parse_region

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
    "unphased": "unphased heterozygous genotype (unphased: drop_sites)",
    "duplicate_position": "another SNP record at the same position (all copies dropped)",
}
# What to do with unphased heterozygous genotypes (``0/1``) at sites that would be kept.
UNPHASED_ACTIONS = ("refuse", "drop_sites", "drop_samples")
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
    unphased: str = "refuse",
) -> dict:
    """Write the biallelic, polymorphic SNPs of the chosen samples in ``region`` as an indexed BCF.

    Parameters
    ----------
    vcf_in : path
        Source VCF/BCF (indexed or not, sorted or not; with a usable index only the region is
        read).
    panel_tsv : path
        Sample panel (normalised TSV or any layout :func:`.download.read_panel` reads).
    bcf_out : path
        Output BCF; its index is written to ``bcf_out + ".csi"``.
    region : str, optional
        ``chrom:start-end`` (1-based, inclusive) or ``chrom``; None keeps every contig.
    populations, super_populations : sequence of str
        Codes of the panel; samples of either are kept. Both empty: every panel sample that is
        in the VCF. A code none of whose samples is in the VCF is refused.
    min_maf : float
        Minimum minor-allele frequency in the chosen samples (monomorphic sites always go).
    max_missing : float
        Largest fraction of missing alleles a site may have in the chosen samples. The missing
        alleles left at kept sites are counted per sample in the log; the encode step fills
        them in from the site's ALT frequency.
    min_haplotypes : int
        Fewest haplotypes (two per chosen sample) to go on with.
    unphased : {"refuse", "drop_sites", "drop_samples"}
        Unphased heterozygous genotypes (``0/1``): stop with their count (default); drop every
        site that has one (reason ``unphased``); or drop every sample that has one at a SNP
        site of the region, then filter again with the samples left.

    Returns
    -------
    dict
        ``n_records`` (in the region, chosen samples), ``n_sites`` (kept), ``n_samples``,
        ``n_haplotypes``, ``n_missing_samples`` (chosen panel samples absent from the VCF) and
        ``dropped_<reason>`` for each reason of the module docstring except ``unphased``, which
        is there with ``unphased="drop_sites"`` only. With ``unphased="drop_samples"`` also
        ``n_unphased_samples`` (samples dropped); with ``max_missing > 0`` also
        ``n_missing_alleles`` (missing alleles left at kept sites).

    Raises
    ------
    InputError
        Unknown population codes or codes without a sample in the VCF, contig name mismatch, no
        chosen sample in the VCF, fewer haplotypes than ``min_haplotypes``, unphased
        heterozygous genotypes at kept sites (with ``unphased="refuse"``), or no site left after
        the filters.
    """
    if not 0.0 <= min_maf <= 0.5:
        raise InputError(f"min_maf is {min_maf}", "use a value between 0 and 0.5")
    if not 0.0 <= max_missing < 1.0:
        raise InputError(f"max_missing is {max_missing}", "use a fraction in [0, 1)")
    if unphased not in UNPHASED_ACTIONS:
        raise InputError(f"unphased is {unphased!r}", f"use one of {', '.join(UNPHASED_ACTIONS)}")
    parsed = parse_region(region)
    panel = read_panel(panel_tsv)
    chosen = choose_samples(panel, populations, super_populations)
    samples, n_absent = _present_samples(vcf_in, chosen, panel_tsv)
    _check_codes(panel, samples, populations, super_populations, vcf_in)
    _check_haplotypes(len(samples), min_haplotypes)
    contigs, indexed = local_contigs(vcf_in)
    region_args = []
    if parsed is not None:
        check_contig(parsed[0], contigs, str(vcf_in))
        if indexed:
            region_args = ["-r", format_region(*parsed)]
        else:
            region_args = ["-t", format_region(*parsed), "--targets-overlap", "1"]
    where = f"region {region}" if region else str(vcf_in)
    stats = {}
    with tempfile.TemporaryDirectory(prefix="ag_subset.") as tmp:
        stage = _stage(vcf_in, samples, region_args, indexed, Path(tmp))
        found = _classify(stage, parsed, min_maf, max_missing, len(samples), unphased)
        if unphased == "drop_samples":
            bad = found.unphased_per_sample > 0
            stats["n_unphased_samples"] = int(bad.sum())
            if bad.any():
                log.warning(
                    "unphased: drop_samples: dropping %d of %d samples with unphased "
                    "heterozygous genotypes at SNP sites of %s (%s)",
                    int(bad.sum()), len(samples), where,
                    _first(samples, found.unphased_per_sample, "unphased"),
                )  # fmt: skip
                samples = [s for s, b in zip(samples, bad) if not b]
                _check_haplotypes(len(samples), min_haplotypes, "after dropping those samples")
                stage = _stage(vcf_in, samples, region_args, indexed, Path(tmp))
                found = _classify(stage, parsed, min_maf, max_missing, len(samples), unphased)
        keep, reasons = found.keep, found.reasons
        counts = {
            f"dropped_{name}": int((reasons == i).sum())
            for i, name in enumerate(REASONS)
            if name != "unphased" or unphased == "drop_sites"
        }
        n_records, n_sites = len(keep), int(keep.sum())
        if found.n_snps_with_missing:
            log.info(
                "missing genotypes: %d missing alleles at %d biallelic SNP records, in %d "
                "samples (%s); max_missing = %g drops sites with more than %d of %d missing",
                int(found.missing_per_sample.sum()), found.n_snps_with_missing,
                int((found.missing_per_sample > 0).sum()),
                _first(samples, found.missing_per_sample, "missing"), max_missing,
                int(max_missing * 2 * len(samples)), 2 * len(samples),
            )  # fmt: skip
        _log_counts(n_records, n_sites, counts, region)
        if n_sites == 0:
            why = "; ".join(f"{REASONS[k[8:]]}: {v}" for k, v in counts.items() if v)
            raise InputError(
                f"{where} holds 0 variants after filters ({n_records} before; {why or 'none'})",
                "check the region, populations and filters (min_maf, max_missing)",
            )
        unphased_kept = found.unphased_per_record[keep]
        if unphased == "refuse" and unphased_kept.any():
            n_bad = int((found.unphased_per_sample > 0).sum())
            raise InputError(
                f"{where} holds {int(unphased_kept.sum())} unphased heterozygous genotypes at "
                f"{int((unphased_kept > 0).sum())} of the {n_sites} kept sites; {n_bad} samples "
                f"have such calls at SNP sites of the region "
                f"({_first(samples, found.unphased_per_sample, 'unphased')})",
                "phase the VCF first (e.g. SHAPEIT5 or Beagle): the models learn haplotypes; or "
                "set the dataset's unphased: drop_sites (drop those sites) or drop_samples "
                "(drop those samples)",
            )
        if max_missing > 0:
            stats["n_missing_alleles"] = _log_missing(stage, keep, samples, found.missing)
        _write_kept(stage, keep, bcf_out)
    stats = {
        "n_records": n_records,
        "n_sites": n_sites,
        "n_samples": len(samples),
        "n_haplotypes": 2 * len(samples),
        "n_missing_samples": n_absent,
        **counts,
        **stats,
    }
    log.info("subset: kept %d of %d sites and %d samples (%d haplotypes) -> %s",
             n_sites, n_records, len(samples), 2 * len(samples), bcf_out)  # fmt: skip
    return stats


def _check_haplotypes(n_samples: int, min_haplotypes: int, when: str = "") -> None:
    if 2 * n_samples < min_haplotypes:
        raise InputError(
            f"{n_samples} samples ({2 * n_samples} haplotypes) chosen{' ' + when if when else ''}"
            f", fewer than min_haplotypes = {min_haplotypes}",
            "choose more populations or lower min_haplotypes",
        )


def _check_codes(panel, samples, populations, super_populations, vcf_in) -> None:
    """Refuse a population or super-population code none of whose samples is in the VCF."""
    present = panel[panel["sample"].isin(set(samples))]
    for codes, column, what in (
        (populations or (), "population", "population"),
        (super_populations or (), "super_population", "super-population"),
    ):
        for code in codes:
            if not (present[column] == code).any():
                listed = panel.loc[panel[column] == code, "sample"].tolist()
                raise InputError(
                    f"{what} {code} has no sample in {vcf_in}: the panel lists {len(listed)} "
                    f"({', '.join(listed[:5])}{', ...' if len(listed) > 5 else ''}), the VCF none "
                    "of them",
                    f"remove {code} from the dataset's {column}s, or give a VCF that holds them",
                )


def _stage(vcf_in, samples: list[str], region_args: list[str], indexed: bool, tmp: Path) -> Path:
    """The region and samples of ``vcf_in`` as a BCF in ``tmp``, sorted by position."""
    stage = tmp / "region.bcf"
    args = ["-s", ",".join(samples), *region_args]
    if indexed:
        bcftools("view", *args, "-W", "-Ob", "-o", stage, vcf_in, what=str(vcf_in))
        return stage
    # streamed through: the records come in file order, which may not be sorted
    bcftools("view", *args, "-Ob", "-o", stage, vcf_in, what=str(vcf_in))
    sort_if_unsorted(stage, tmp, "b")
    bcftools("index", "-f", stage, what=str(stage))
    return stage


def _first(samples: list[str], counts: np.ndarray, what: str, n: int = 5) -> str:
    """The samples with the largest counts, e.g. ``"NA1 12 missing, NA2 3 missing, ..."``."""
    order = np.argsort(-counts, kind="stable")[:n]
    shown = [f"{samples[i]} {int(counts[i])} {what}" for i in order if counts[i] > 0]
    more = int((counts > 0).sum()) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _present_samples(vcf_in, chosen: list[str], panel_tsv) -> tuple[list[str], int]:
    """The chosen samples found in the VCF, in the VCF's column order, and the count missing."""
    in_vcf = vcf_samples(vcf_in)
    chosen_set, vcf_set = set(chosen), set(in_vcf)
    present = [s for s in in_vcf if s in chosen_set]
    absent = [s for s in chosen if s not in vcf_set]
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
    other = [s for s in in_vcf if s not in chosen_set]
    log.info("samples: %d chosen and in the VCF; %d other VCF samples left out%s",
             len(present), len(other),
             f" (first: {', '.join(other[:5])})" if other else "")  # fmt: skip
    return present, len(absent)


@dataclass
class _Classified:
    keep: np.ndarray  # bool (n_records,)
    reasons: np.ndarray  # int8 (n_records,), index into REASONS, -1 kept
    missing: np.ndarray  # int64 (n_records,), missing alleles per record
    unphased_per_record: np.ndarray  # int64 (n_records,), unphased heterozygous genotypes
    unphased_per_sample: np.ndarray  # int64 (n_samples,), the same at SNP records in the region
    missing_per_sample: np.ndarray  # int64 (n_samples,), missing alleles at SNP records
    n_snps_with_missing: int  # SNP records in the region with a missing allele


def _classify(stage, parsed, min_maf, max_missing, n_samples, unphased) -> _Classified:
    """Reason code of every record of ``stage`` and its missing and unphased counts."""
    code = {name: i for i, name in enumerate(REASONS)}
    n_haplotypes = 2 * n_samples
    blocks = {name: [] for name in ("reason", "pos", "chrom", "missing", "unphased", "competes")}
    unphased_per_sample = np.zeros(n_samples, dtype=np.int64)
    missing_per_sample = np.zeros(n_samples, dtype=np.int64)
    n_snps_with_missing = 0
    for sites, alleles, phased in read_genotypes(stage):
        k = len(sites["pos"])
        reason = np.full(k, -1, dtype=np.int8)

        def mark(mask, name, reason=reason):
            reason[(reason < 0) & mask] = code[name]

        pos, alt, ref = sites["pos"], sites["alt"], sites["ref"]
        in_region = np.ones(k, dtype=bool)
        if parsed is not None and parsed[1] is not None:
            in_region = (pos >= parsed[1]) & (pos <= parsed[2])
        mark(~in_region, "outside_region")
        mark(np.array(["," in a for a in alt]), "multi_allelic")
        mark(np.array([a.startswith("<") or a == "*" or "[" in a or "]" in a for a in alt]),
             "symbolic")  # fmt: skip
        mark(np.array([a == "." for a in alt]), "no_alt")
        mark(np.array([r not in _BASES or a not in _BASES for r, a in zip(ref, alt)]), "not_snp")
        snp = reason < 0  # biallelic SNPs in the region, before any filter on genotypes
        called = alleles >= 0
        n_called = called.sum(axis=(1, 2))
        missing = n_haplotypes - n_called
        mark(missing > max_missing * n_haplotypes, "missing")
        n_alt = (alleles == 1).sum(axis=(1, 2))
        mark((n_alt == 0) | (n_alt == n_called), "monomorphic")
        maf = np.minimum(n_alt, n_called - n_alt) / np.maximum(n_called, 1)
        mark(maf < min_maf, "maf")
        het = called.all(axis=2) & (alleles[..., 0] != alleles[..., 1])
        unphased_het = het & ~phased
        if unphased == "drop_sites":
            mark(unphased_het.any(axis=1), "unphased")
        unphased_per_sample += unphased_het[snp].sum(axis=0)
        missing_per_sample += (alleles[snp] < 0).sum(axis=(0, 2))
        n_snps_with_missing += int((missing[snp] > 0).sum())
        snp_like = np.array(
            [r in _BASES and all(a in _BASES for a in a_list.split(",")) for r, a_list in
             zip(ref, alt)]
        )  # fmt: skip
        blocks["competes"].append(in_region & snp_like & (alleles > 0).any(axis=(1, 2)))
        blocks["reason"].append(reason)
        blocks["pos"].append(pos)
        blocks["chrom"].append(np.asarray(sites["chrom"]))
        blocks["missing"].append(missing)
        blocks["unphased"].append(unphased_het.sum(axis=1))
    if not blocks["reason"]:
        empty = np.zeros(0, dtype=np.int64)
        return _Classified(np.zeros(0, bool), np.zeros(0, np.int8), empty, empty,
                           unphased_per_sample, missing_per_sample, 0)  # fmt: skip
    arrays = {name: np.concatenate(values) for name, values in blocks.items()}
    reasons = arrays["reason"]
    keys = np.char.add(np.char.add(arrays["chrom"], ":"), arrays["pos"].astype(str))
    competing = keys[arrays["competes"]]
    shared, n_competing = np.unique(competing, return_counts=True)
    crowded = np.isin(keys, shared[n_competing > 1])
    reasons[(reasons < 0) & crowded] = code["duplicate_position"]
    return _Classified(
        keep=reasons < 0,
        reasons=reasons,
        missing=arrays["missing"],
        unphased_per_record=arrays["unphased"],
        unphased_per_sample=unphased_per_sample,
        missing_per_sample=missing_per_sample,
        n_snps_with_missing=n_snps_with_missing,
    )


def _log_missing(stage, keep, samples, missing_per_record) -> int:
    """Log the missing alleles left at kept sites, per site and per sample; return their count."""
    kept_missing = missing_per_record[keep]
    total = int(kept_missing.sum())
    if total == 0:
        log.info("missing genotypes: none at the kept sites")
        return 0
    per_sample = np.zeros(len(samples), dtype=np.int64)
    offset = 0
    for _, alleles, _ in read_genotypes(stage):
        block_keep = keep[offset : offset + len(alleles)]
        per_sample += (alleles[block_keep] < 0).sum(axis=(0, 2))
        offset += len(alleles)
    log.info(
        "missing genotypes: %d missing alleles at %d of %d kept sites (at most %d of %d "
        "haplotypes at one site), in %d samples (%s); the encode step fills them in",
        total, int((kept_missing > 0).sum()), int(keep.sum()), int(kept_missing.max()),
        2 * len(samples), int((per_sample > 0).sum()), _first(samples, per_sample, "missing"),
    )  # fmt: skip
    return total


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
