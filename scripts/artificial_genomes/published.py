"""Published artificial genomes (Yelmen et al. 2021) as rows of a dataset's report.

The AGs published with the 2021 paper are ``.hapt`` files (zipped) whose columns follow a legend
(``id position a0 a1``, ids ``chrom:pos_a0_a1``). :func:`import_published` places their columns on
the sites of a dataset's ``haplotypes.npz`` and writes the same three files as the sample step, so
that evaluation and report treat them like any other model. Sites of the legend that the dataset
lacks (the subset step drops monomorphic sites, e.g. 3 fixed-ALT sites of the 805) are left out;
every site of the dataset must be in the legend with the same REF and ALT.
"""

import logging

import numpy as np

from . import __version__, vcf
from .errors import InputError
from .haplotypes import HaplotypeSet

log = logging.getLogger(__name__)

# Legend sites the dataset may lack before a warning (the subset usually drops a few).
DROPPED_WARNING_FRACTION = 0.1


def match_sites(legend: dict, real: HaplotypeSet, legend_path="legend") -> np.ndarray:
    """Column of the legend for each site of ``real``.

    Parameters
    ----------
    legend : dict
        From :func:`vcf.read_legend`: ``chrom``, ``pos``, ``ref``, ``alt`` arrays (n_snps,).
    real : HaplotypeSet
        The dataset whose sites the columns must cover.
    legend_path : str
        Named in error messages.

    Returns
    -------
    numpy.ndarray, int64, shape (real.n_variants,)
        ``legend`` row of each site of ``real``, in the dataset's order.

    Raises
    ------
    InputError
        A site of the dataset whose position the legend lacks, or where REF/ALT differ.
    """
    index = {}
    for i, key in enumerate(zip(legend["chrom"].tolist(), legend["pos"].tolist())):
        index.setdefault(key, []).append(i)
    columns = np.empty(real.n_variants, dtype=np.int64)
    missing, disagree = [], []
    for j, (chrom, pos, ref, alt) in enumerate(
        zip(real.chrom.tolist(), real.pos.tolist(), real.ref.tolist(), real.alt.tolist())
    ):
        rows = index.get((chrom, pos), [])
        same = [i for i in rows if legend["ref"][i] == ref and legend["alt"][i] == alt]
        if same:
            columns[j] = same[0]
        elif rows:
            i = rows[0]
            disagree.append(f"{chrom}:{pos} {ref}>{alt} vs {legend['ref'][i]}>{legend['alt'][i]}")
        else:
            missing.append(f"{chrom}:{pos}")
    if disagree:
        raise InputError(
            f"{len(disagree)} sites have other REF/ALT alleles in the dataset than in "
            f"{legend_path} (dataset vs legend; first: {', '.join(disagree[:3])})",
            "import published AGs only into a dataset built from the same alleles (the "
            "published files code 1 = a1 of the legend = ALT)",
        )
    if missing:
        contigs = sorted(set(legend["chrom"].tolist()))
        raise InputError(
            f"{len(missing)} of {real.n_variants} sites of the dataset are not in {legend_path} "
            f"(first: {', '.join(missing[:3])}; the legend's contigs: {', '.join(contigs[:5])}"
            f"{', ...' if len(contigs) > 5 else ''})",
            "give published AGs only to the dataset they were made for (yelmen805 for the "
            "805-SNP files), without a region or filter that keeps sites the legend lacks",
        )
    return columns


def import_published(
    hapt_path,
    legend_path,
    haplotypes_npz,
    vcf_out,
    npz_out,
    hapt_out,
    model: str = "published",
    dataset: str = "",
) -> HaplotypeSet:
    """Write published AGs as ``ag.vcf.gz`` (+ ``.tbi``), ``ag.npz`` and ``ag.hapt`` of a dataset.

    Parameters
    ----------
    hapt_path : path
        ``.hapt`` text or a zip holding one (rows = haplotypes, columns in legend order).
    legend_path : path
        Legend of the ``.hapt`` columns (``id position a0 a1``; ids ``chrom:pos_a0_a1``).
    haplotypes_npz : path
        The dataset's real :class:`HaplotypeSet` (for its sites).
    vcf_out, npz_out, hapt_out : path
        Outputs, as those of the sample step (each written atomically).
    model : str
        Name of this row of the report (``published_gan``).
    dataset : str
        Dataset name for the headers.

    Returns
    -------
    HaplotypeSet
        haplotypes int8 (n_haplotypes, n_sites of the dataset); haplotypes ``2i`` and ``2i+1``
        (consecutive rows of the file) form individual ``AG_{i+1:06d}``. A last unpaired row is
        left out.

    Raises
    ------
    InputError
        Unreadable files, a legend that does not fit the ``.hapt`` file, or sites of the dataset
        missing from the legend or with other alleles (see :func:`match_sites`).
    """
    real = HaplotypeSet.load(haplotypes_npz)
    legend = vcf.read_legend(legend_path)
    _, _, matrix = vcf.read_hapt(hapt_path, legend_path)
    columns = match_sites(legend, real, legend_path)
    n_dropped = len(legend["pos"]) - real.n_variants
    if n_dropped > DROPPED_WARNING_FRACTION * len(legend["pos"]):
        log.warning(
            "%d of %d SNPs of %s are not in the dataset and are left out",
            n_dropped, len(legend["pos"]), legend_path,
        )  # fmt: skip
    n_rows = matrix.shape[0]
    if n_rows < 2:
        raise InputError(f"{hapt_path} holds {n_rows} haplotype(s)", "give a whole .hapt file")
    if n_rows % 2:
        log.warning("%s holds an odd number of haplotypes (%d); the last is left out",
                    hapt_path, n_rows)  # fmt: skip
        n_rows -= 1
    haplotypes = np.ascontiguousarray(matrix[:n_rows, columns])
    n_samples = n_rows // 2
    ag = HaplotypeSet.artificial(
        haplotypes, real, meta={"dataset": dataset, "model": model, "published_file": str(hapt_path)}
    )
    header_lines = [
        f"##ag_source=artificial_genomes {__version__}",
        f"##ag_model={model}",
        f"##ag_published_file={hapt_path}",
        "##ag_published_by=Yelmen et al. 2021, PLoS Genet 17:e1009303",
        f"##ag_dataset={dataset}",
    ]
    vcf.write_artificial(ag, vcf_out, npz_out, hapt_out, header_lines)
    log.info(
        "%s: %d published haplotypes (%d individuals) x %d of the %d SNPs of %s (%d not in the "
        "dataset) -> %s, %s, %s; ALT frequency %.4f (real %.4f)",
        model, n_rows, n_samples, ag.n_variants, len(legend["pos"]), hapt_path, n_dropped,
        vcf_out, npz_out, hapt_out, haplotypes.mean(), real.haplotypes.mean(),
    )  # fmt: skip
    return ag
