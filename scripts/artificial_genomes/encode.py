"""Read phased genotypes into the 0/1 haplotype matrix and split individuals into train and test.

Genotypes are read with ``bcftools query`` (through pysam) into a temporary text file, which is
parsed block by block with numpy: a genotype ``a|b`` followed by a tab is four bytes, so a block of
records is one reshape of the bytes. Rows that do not fit that layout (alleles >= 10, haploid or
missing ``.`` calls) go through a slower exact parser. The subset step uses the same reader to
count allele frequencies, missing and unphased genotypes.
"""

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from .download import bcftools, read_panel, vcf_samples
from .errors import InputError
from .fileio import atomic_path
from .haplotypes import HaplotypeSet

log = logging.getLogger(__name__)

SITE_FIELDS = ("chrom", "pos", "id", "ref", "alt")
_QUERY = "%CHROM\t%POS\t%ID\t%REF\t%ALT\t[%GT\t]\n"
# byte -> allele index: digits 0-9, "." missing (-1), anything else invalid (-2)
_ALLELE = np.full(256, -2, dtype=np.int8)
_ALLELE[ord("0") : ord("9") + 1] = np.arange(10)
_ALLELE[ord(".")] = -1
_PIPE, _SLASH, _TAB = ord("|"), ord("/"), ord("\t")


def read_genotypes(path, samples=None, block_size: int = 4096) -> Iterator[tuple]:
    """Yield the sites and genotypes of a VCF/BCF, a block of records at a time, in file order.

    Parameters
    ----------
    path : path
        VCF or BCF (any compression).
    samples : list of str, optional
        Samples to read, in the file's column order; None reads all.
    block_size : int
        Records per block.

    Yields
    ------
    sites : dict
        ``chrom``, ``id``, ``ref``, ``alt`` (lists of str, ALT as written, e.g. ``A,C``) and
        ``pos`` (numpy int64), one entry per record of the block.
    alleles : numpy.ndarray, int8, shape (n_records, n_samples, 2)
        Allele index left and right of the separator (0 = REF, 1 = first ALT, ...), -1 missing.
    phased : numpy.ndarray, bool, shape (n_records, n_samples)
        True where the genotype is written with ``|``.

    Raises
    ------
    InputError
        Haploid or polyploid genotypes, which a haplotype pair cannot hold.
    """
    args = ["-f", _QUERY]
    if samples is not None:
        args += ["-s", ",".join(samples)]
    with tempfile.TemporaryDirectory(prefix="ag_query.") as tmp:
        table = Path(tmp) / "genotypes.tsv"
        bcftools("query", *args, "-o", table, path, what=str(path))
        with open(table, "rb") as handle:
            while True:
                lines = [line for _, line in zip(range(block_size), handle, strict=False)]
                if not lines:
                    break
                yield _parse_block(lines, path)


def _parse_block(lines: list[bytes], path):
    fields = [line.rstrip(b"\n").split(b"\t", 5) for line in lines]
    sites = {
        name: [f[i].decode() for f in fields] for i, name in enumerate(SITE_FIELDS) if name != "pos"
    }
    sites["pos"] = np.array([int(f[1]) for f in fields], dtype=np.int64)
    parts = [f[5] for f in fields]
    n_samples = parts[0].count(b"\t")
    width = 4 * n_samples
    if all(len(p) == width for p in parts):
        raw = np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(len(parts), n_samples, 4)
        alleles = _ALLELE[raw[..., [0, 2]]]
        sep = raw[..., 1]
        if (
            (alleles >= -1).all()
            and ((sep == _PIPE) | (sep == _SLASH)).all()
            and (raw[..., 3] == _TAB).all()
        ):
            return sites, alleles, sep == _PIPE
    return sites, *_parse_slow(parts, n_samples, sites, path)


def _parse_slow(parts: list[bytes], n_samples: int, sites: dict, path):
    """Exact parser for rows the fixed-width path cannot take."""
    alleles = np.empty((len(parts), n_samples, 2), dtype=np.int8)
    phased = np.zeros((len(parts), n_samples), dtype=bool)
    for row, part in enumerate(parts):
        for col, token in enumerate(part.split(b"\t")[:n_samples]):
            if token == b".":
                alleles[row, col] = -1
                continue
            pieces = token.replace(b"/", b"|").split(b"|")
            if len(pieces) != 2:
                raise InputError(
                    f"{path}: genotype {token.decode()!r} at {sites['chrom'][row]}:"
                    f"{sites['pos'][row]} is not diploid (haploid calls such as chrX in males "
                    "cannot be paired into two haplotypes)",
                    "choose an autosomal region, or samples with diploid calls there",
                )
            for side, piece in enumerate(pieces):
                alleles[row, col, side] = -1 if piece == b"." else min(int(piece), 127)
            phased[row, col] = b"|" in token
    return alleles, phased


def split_individuals(population, test_fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """Seeded train/test split of individuals, stratified by population.

    In each population of ``n`` individuals, ``round(test_fraction * n)`` go to the test set, but
    never all of them: at least one individual of each population stays in training.

    Parameters
    ----------
    population : array-like of str, shape (n_samples,)
        Population label of each individual (an empty label is a stratum of its own).
    test_fraction : float
        Target fraction of test individuals, in [0, 1).
    seed : int

    Returns
    -------
    numpy.ndarray, str, shape (n_samples,)
        ``"train"`` or ``"test"`` per individual.
    """
    if not 0.0 <= test_fraction < 1.0:
        raise InputError(f"test_fraction is {test_fraction}", "use a fraction in [0, 1), e.g. 0.2")
    population = np.asarray(population).astype(str)
    split = np.full(len(population), "train", dtype="<U5")
    rng = np.random.default_rng(seed)
    for label in sorted(set(population.tolist())):
        members = np.flatnonzero(population == label)
        n_test = min(int(np.floor(test_fraction * len(members) + 0.5)), len(members) - 1)
        split[rng.permutation(members)[:n_test]] = "test"
    return split


def read_haplotypes(path, allow_missing: bool = False) -> tuple[dict, np.ndarray, list[str]]:
    """Read a phased, biallelic VCF/BCF into the haplotype matrix, exactly.

    Parameters
    ----------
    path : path
        VCF/BCF holding only biallelic records with phased diploid genotypes.
    allow_missing : bool
        Keep missing alleles as -1 instead of refusing them.

    Returns
    -------
    sites : dict
        ``chrom``, ``id``, ``ref``, ``alt`` (numpy str) and ``pos`` (numpy int64), shape
        (n_variants,).
    haplotypes : numpy.ndarray, int8, shape (2 * n_samples, n_variants)
        Row ``2i`` / ``2i + 1`` = allele left / right of ``|`` of sample ``i``; 1 = ALT, -1
        missing (with ``allow_missing`` only).
    samples : list of str
        Sample ids in column order.

    Raises
    ------
    InputError
        Missing genotypes (unless allowed), unphased heterozygotes, or alleles other than 0/1.
    """
    samples = vcf_samples(path)
    site_blocks, hap_blocks = [], []
    n_missing = n_unphased = n_multi = 0
    for sites, alleles, phased in read_genotypes(path):
        n_missing += int((alleles < 0).sum())
        n_multi += int((alleles > 1).sum())
        het = alleles[..., 0] != alleles[..., 1]
        n_unphased += int((het & ~phased).sum())
        site_blocks.append(sites)
        k = alleles.shape[0]
        hap_blocks.append(alleles.transpose(1, 2, 0).reshape(2 * len(samples), k))
    where = f"{path}"
    if n_missing and not allow_missing:
        raise InputError(
            f"{where} holds {n_missing} missing alleles; the haplotype matrix cannot hold them",
            "run the subset step with max_missing: 0 (drops every site with a missing genotype), "
            "or encode with encode(), which fills them in",
        )
    if n_multi:
        raise InputError(
            f"{where} holds {n_multi} alleles other than REF (0) and the first ALT (1)",
            "keep biallelic SNPs only (the subset step does)",
        )
    if n_unphased:
        raise InputError(
            f"{where} holds {n_unphased} unphased heterozygous genotypes",
            "phase the VCF first (e.g. SHAPEIT5 or Beagle); the models need haplotypes",
        )
    sites = {
        name: np.concatenate([np.asarray(block[name]) for block in site_blocks])
        if site_blocks
        else np.array([], dtype=np.int64 if name == "pos" else str)
        for name in SITE_FIELDS
    }
    if hap_blocks:
        haplotypes = np.concatenate(hap_blocks, axis=1)
    else:
        haplotypes = np.zeros((2 * len(samples), 0), dtype=np.int8)
    return sites, np.ascontiguousarray(haplotypes, dtype=np.int8), samples


def encode(
    bcf_in,
    panel_tsv,
    npz_out,
    split_tsv_out,
    test_fraction: float = 0.2,
    seed: int = 0,
    meta: dict | None = None,
) -> HaplotypeSet:
    """Encode the subset BCF as a :class:`HaplotypeSet` with a train/test split, and save it.

    Parameters
    ----------
    bcf_in : path
        Output of the subset step: biallelic SNPs at distinct positions, phased. Missing
        alleles (``.``) are filled in, each drawn from the ALT frequency of the called alleles
        at its site with a generator seeded by ``seed`` (a stream apart from the split's), and
        counted in the log; keep them few with the subset step's ``max_missing``.
    panel_tsv : path
        Sample panel (normalised TSV, or any layout :func:`read_panel` reads). Samples missing
        from it get empty population labels (and form their own stratum in the split).
    npz_out : path
        :meth:`HaplotypeSet.save` output.
    split_tsv_out : path
        TSV with columns ``sample``, ``population``, ``super_population``, ``split``.
    test_fraction : float
        Fraction of individuals of each population held out (see :func:`split_individuals`).
    seed : int
        Seed of the split and of the filling-in of missing alleles.
    meta : dict, optional
        Provenance stored in the set (e.g. the dataset name); the source path, split settings
        and counts are added.

    Returns
    -------
    HaplotypeSet
        haplotypes int8 (2 * n_samples, n_variants), labels and split.

    Raises
    ------
    InputError
        Unphased heterozygotes, non-biallelic alleles, repeated or unsorted positions, a site
        with no called allele, no variants.
    """
    sites, haplotypes, samples = read_haplotypes(bcf_in, allow_missing=True)
    if haplotypes.shape[1] == 0:
        raise InputError(f"{bcf_in} holds no variants", "check the subset step's log")
    _check_positions(sites, bcf_in)
    panel = read_panel(panel_tsv).set_index("sample")
    labels = panel.reindex(samples).fillna("")
    unlabelled = int((labels["population"] == "").sum())
    if unlabelled:
        log.warning("%d of %d samples have no population in %s; they form their own stratum",
                    unlabelled, len(samples), panel_tsv)  # fmt: skip
    split = split_individuals(labels["population"].to_numpy(), test_fraction, seed)
    n_imputed = impute_missing(haplotypes, seed, reference=np.repeat(split == "train", 2))
    meta = {str(k): str(v) for k, v in (meta or {}).items()}
    meta.update(
        source=str(bcf_in),
        n_imputed_alleles=str(n_imputed),
        test_fraction=str(test_fraction),
        split_seed=str(seed),
        n_train=str(int((split == "train").sum())),
        n_test=str(int((split == "test").sum())),
    )
    hapset = HaplotypeSet(
        haplotypes=haplotypes,
        **sites,
        samples=np.array(samples),
        population=labels["population"].to_numpy(),
        super_population=labels["super_population"].to_numpy(),
        split=split,
        meta=meta,
    )
    hapset.save(npz_out)
    table = pd.DataFrame(
        {
            "sample": hapset.samples,
            "population": hapset.population,
            "super_population": hapset.super_population,
            "split": hapset.split,
        }
    )
    with atomic_path(split_tsv_out) as tmp:
        table.to_csv(tmp, sep="\t", index=False)
    per_pop = table.groupby("population")["split"].apply(lambda s: (s == "test").sum())
    log.info(
        "encode: %d haplotypes (%d individuals: %d train, %d test) x %d SNPs, ALT frequency "
        "%.4f -> %s; split (seed %d, test fraction %.2f; test individuals per population: %s) "
        "-> %s",
        haplotypes.shape[0], len(samples), int((split == "train").sum()),
        int((split == "test").sum()), haplotypes.shape[1], haplotypes.mean(), npz_out, seed,
        test_fraction, ", ".join(f"{p or '?'} {n}" for p, n in per_pop.items()), split_tsv_out,
    )  # fmt: skip
    return hapset


def impute_missing(haplotypes: np.ndarray, seed: int, reference=None) -> int:
    """Fill in missing alleles (-1), in place, each drawn from its site's ALT frequency.

    Parameters
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
        0/1 with -1 for missing; changed in place.
    seed : int
        Seeds the draws (``numpy.random.default_rng([seed, 1])``, a stream apart from the
        train/test split's), so the same input and seed give the same matrix.
    reference : numpy.ndarray, bool, shape (n_haplotypes,), optional
        Haplotypes whose called alleles give the frequencies (the training ones, so that no
        information of the held-out test set reaches the training data); a site with no called
        allele among them falls back to all haplotypes. Default: all haplotypes.

    Returns
    -------
    int
        Number of alleles filled in (also logged).

    Raises
    ------
    InputError
        A site where every allele is missing (nothing to draw from).
    """
    missing = haplotypes < 0
    n_missing = int(missing.sum())
    if n_missing == 0:
        return 0
    n_called = (~missing).sum(axis=0)
    if (n_called == 0).any():
        raise InputError(
            f"{int((n_called == 0).sum())} site(s) have no called allele at all",
            "run the subset step with max_missing below 1 (e.g. 0.05): it drops such sites",
        )
    freq = (haplotypes == 1).sum(axis=0) / n_called
    if reference is not None:
        ref = haplotypes[np.asarray(reference, dtype=bool)]
        n_ref = (ref >= 0).sum(axis=0)
        freq = np.where(n_ref > 0, (ref == 1).sum(axis=0) / np.maximum(n_ref, 1), freq)
    rows, cols = np.nonzero(missing)
    rng = np.random.default_rng([seed, 1])
    haplotypes[rows, cols] = (rng.random(n_missing) < freq[cols]).astype(np.int8)
    per_site = missing.sum(axis=0)
    log.info(
        "filled in %d missing alleles (%.4f%% of the matrix) at %d of %d sites (at most %d at "
        "one site), each drawn from its site's ALT frequency%s (seed %d)",
        n_missing, 100 * n_missing / missing.size, int((per_site > 0).sum()), missing.shape[1],
        int(per_site.max()), "" if reference is None else " in the training haplotypes", seed,
    )  # fmt: skip
    return n_missing


def _check_positions(sites: dict, path) -> None:
    """Refuse repeated or unsorted positions within a contig (one column per site, in order)."""
    chrom, pos = np.asarray(sites["chrom"]), np.asarray(sites["pos"])
    same = chrom[1:] == chrom[:-1]
    step = np.diff(pos)
    bad = np.flatnonzero(same & (step <= 0))
    if bad.size:
        i = int(bad[0])
        what = "repeated" if step[i] == 0 else "out of order"
        raise InputError(
            f"{path}: position {chrom[i + 1]}:{pos[i + 1]} is {what} (after {pos[i]}; "
            f"{bad.size} such records); each column of the matrix must be one site, in order",
            "encode the output of the subset step, which drops repeated positions and sorts",
        )
