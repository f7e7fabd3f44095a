"""Windows: cut a dataset's region into pieces trained apart, then join their AGs again.

A dataset with the config key ``windows`` is trained as one dataset per window, named
``{dataset}.w1``, ``{dataset}.w2``, ... in genomic order. Each window goes through its own subset,
encode, train and sample steps, so a cluster trains the windows in parallel, and each network sees
only its window's SNPs (the size of a dense network grows with the square of its SNP count).
:func:`gather_windows` then sets AG haplotype ``i`` of every window side by side: together they
are AG haplotype ``i`` of the whole region.

What is lost at a join: no model sees across a window boundary, and haplotype ``i`` of window 1 and
haplotype ``i`` of window 2 are independent draws from two models (trained and sampled with
different seeds). LD between SNPs on the two sides of a boundary is therefore that of unrelated
haplotypes (r^2 near 0) whatever it is in the real data; LD within a window is what its model
learnt. A ``copy`` baseline copies a training haplotype only within each window.

The region functions use only the standard library: the workflow calls them to expand the config
before any rule runs, in Snakemake's own environment. The gather functions import numpy and the
writers when they are called.
"""

import itertools
import json
import logging

from .errors import InputError
from .regions import parse_region

log = logging.getLogger(__name__)



def window_name(dataset: str, k: int) -> str:
    """The dataset name of window ``k`` (1-based) of ``dataset``: ``{dataset}.w{k}``."""
    return f"{dataset}.w{k}"


def _bounded(region, what: str) -> tuple[str, int, int]:
    if region is None:
        raise InputError(
            f"{what} is not set, so there is nothing to cut into windows",
            "set the dataset's region as chrom:start-end",
        )
    chrom, start, end = parse_region(region, what)
    if start is None:
        raise InputError(
            f"{what} {region!r} is a whole contig, whose length the config does not know",
            "give the region as chrom:start-end",
        )
    return chrom, start, end


def split_region(region: str, n: int) -> list[str]:
    """Cut ``region`` into ``n`` windows of equal length that cover it exactly.

    Window ``k`` (0-based) runs from ``start + floor(k * L / n)`` to
    ``start + floor((k + 1) * L / n) - 1``, with ``L = end - start + 1``: every position of the
    region is in exactly one window, and lengths differ by at most 1 bp.

    Parameters
    ----------
    region : str
        ``chrom:start-end`` (1-based, both ends included; thousands separators allowed).
    n : int
        Number of windows, 1 <= n <= L.

    Returns
    -------
    list of str
        ``n`` regions ``chrom:start-end`` in genomic order.

    Raises
    ------
    InputError
        A region without coordinates, or ``n`` below 1 or above the region's length.
    """
    chrom, start, end = _bounded(region, "region")
    length = end - start + 1
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= length:
        raise InputError(
            f"windows: {n!r} is not a whole number of windows between 1 and the region's "
            f"length ({length} bp)",
            "give a smaller positive integer, or a list of regions",
        )
    cuts = [start + (k * length) // n for k in range(n + 1)]
    return [f"{chrom}:{a}-{b - 1}" for a, b in itertools.pairwise(cuts)]


def check_windows(region: str, windows: list[str]) -> list[str]:
    """Check an explicit list of windows against ``region``; return them normalised.

    The windows must lie on the region's contig, be sorted, not overlap, and together cover the
    region exactly (the first starts at its start, each next one the base after the previous
    end, the last ends at its end): the joined AGs must have every site of the whole region.

    Parameters
    ----------
    region : str
        ``chrom:start-end`` of the dataset.
    windows : list of str
        ``chrom:start-end`` per window, in genomic order.

    Returns
    -------
    list of str
        The windows as ``chrom:start-end`` without thousands separators.

    Raises
    ------
    InputError
        Naming the first window that breaks a rule, and how.
    """
    chrom, start, end = _bounded(region, "region")
    if not windows:
        raise InputError("windows is an empty list", "list at least one region, or give a number")
    parsed = [_bounded(w, f"window {i + 1}") for i, w in enumerate(windows)]
    label = [f"window {i + 1} ({w})" for i, w in enumerate(windows)]
    for i, (c, a, b) in enumerate(parsed):
        if c != chrom:
            raise InputError(
                f"{label[i]} is on contig {c!r}, the region {region!r} on {chrom!r}",
                "windows must lie on the region's contig",
            )
        if a < start or b > end:
            raise InputError(
                f"{label[i]} reaches outside the region {region!r}",
                "keep every window inside the region",
            )
    for i in range(1, len(parsed)):
        if parsed[i][1] <= parsed[i - 1][2]:
            raise InputError(
                f"{label[i]} starts at or before the end of {label[i - 1]}: the windows overlap "
                "or are not sorted",
                "list the windows in genomic order without overlaps",
            )
    bounds = [(start - 1, start - 1), *[(a, b) for _, a, b in parsed], (end + 1, end + 1)]
    for (_, prev_end), (next_start, _) in itertools.pairwise(bounds):
        if next_start > prev_end + 1:
            raise InputError(
                f"{prev_end + 1}-{next_start - 1} of the region {region!r} is in no window",
                "extend a neighbouring window over the gap, or give the number of windows",
            )
    return [f"{c}:{a}-{b}" for c, a, b in parsed]


def window_regions(region: str, windows) -> list[str]:
    """The windows of a dataset from its config: ``split_region`` for a number, else checked.

    Parameters
    ----------
    region : str
        The dataset's ``region`` (``chrom:start-end``).
    windows : int or list of str
        The dataset's ``windows`` key.

    Returns
    -------
    list of str
        ``chrom:start-end`` per window, in genomic order, covering the region exactly.
    """
    if isinstance(windows, int) and not isinstance(windows, bool):
        return split_region(region, windows)
    return check_windows(region, list(windows))


def join_windows(window_ags, whole, window_reals=(), names=()):
    """Join the AGs of a dataset's windows into AGs of the whole region.

    Windows are put in genomic order (by the whole region's first site of each), and AG haplotype
    ``i`` of every window becomes AG haplotype ``i`` of the result.

    Parameters
    ----------
    window_ags : list of HaplotypeSet
        AGs of each window: haplotypes int8 (n_ags, n_variants_k), the same ``n_ags`` and sample
        ids in every window.
    whole : HaplotypeSet
        Real haplotypes of the whole region (int8 (n_haplotypes, n_variants)); the joined sites
        must equal its sites exactly.
    window_reals : list of HaplotypeSet, optional
        Real haplotypes of each window; their samples and train/test split must equal
        ``whole``'s (a model trained on other individuals would leak the test half).
    names : list of str, optional
        Names of the windows for messages (default ``window 1``, ...).

    Returns
    -------
    HaplotypeSet
        haplotypes int8 (n_ags, n_variants) on ``whole``'s sites, the samples of the first window,
        empty labels; meta ``windows`` (the names in genomic order).

    Raises
    ------
    InputError
        No windows, windows with other AG counts or ids, another split, or joined sites that
        are not the whole region's.
    """
    import numpy as np

    from .haplotypes import HaplotypeSet

    if not window_ags:
        raise InputError("no windows to join", "list the AG files of every window")
    names = list(names) or [f"window {k}" for k in range(1, len(window_ags) + 1)]
    window_reals = list(window_reals)
    if len(names) != len(window_ags) or len(window_reals) not in (0, len(window_ags)):
        raise InputError(
            f"{len(window_ags)} windows of AGs, {len(window_reals)} of real haplotypes and "
            f"{len(names)} names",
            "give one real set and one name per window",
        )
    first = window_ags[0]
    for name, ags in zip(names, window_ags, strict=True):
        if not np.array_equal(ags.samples, first.samples):
            raise InputError(
                f"{name} has {ags.haplotypes.shape[0]} AG haplotypes ({', '.join(ags.samples[:2])}"
                f", ...), {names[0]} {first.haplotypes.shape[0]} ({', '.join(first.samples[:2])}"
                ", ...): AG i of each window cannot be paired",
                "sample every window with the same n_ags (rerun their sample steps)",
            )
    for name, real in zip(names[: len(window_reals)], window_reals, strict=True):
        _check_same_split(real, whole, name)
    keys = _site_keys(whole)
    order = genomic_order(window_ags, whole)
    ordered = [window_ags[k] for k in order]
    joined = {
        field: np.concatenate([getattr(ags, field) for ags in ordered])
        for field in ("chrom", "pos", "id", "ref", "alt")
    }
    _check_sites(np.array(_site_keys(joined)), np.array(keys), [names[k] for k in order])
    empty = np.full(first.n_samples, "", dtype=str)
    return HaplotypeSet(
        haplotypes=np.concatenate([ags.haplotypes for ags in ordered], axis=1),
        **joined,
        samples=first.samples,
        population=empty,
        super_population=empty,
        split=empty,
        meta={"windows": ",".join(names[k] for k in order)},
    )


def genomic_order(window_ags, whole) -> list[int]:
    """Indices of the windows sorted by the place of their first site among ``whole``'s sites.

    Parameters
    ----------
    window_ags : list of HaplotypeSet
        AGs (or real haplotypes) of each window.
    whole : HaplotypeSet
        The whole region, whose site order is the genomic order.

    Returns
    -------
    list of int
        ``order[j]`` is the index in ``window_ags`` of the ``j``-th window along the genome;
        windows without sites, or whose first site is not in ``whole``, come first.
    """
    rank = {key: i for i, key in enumerate(_site_keys(whole))}
    starts = [rank.get(_site_keys(ags)[0], -1) if ags.n_variants else -1 for ags in window_ags]
    return sorted(range(len(window_ags)), key=lambda k: starts[k])


def _site_keys(sites) -> list[str]:
    """``chrom:pos:ref:alt:id`` per site of a HaplotypeSet or a dict of its site arrays."""
    get = sites.get if isinstance(sites, dict) else lambda name: getattr(sites, name)
    columns = [get(name).tolist() for name in ("chrom", "pos", "ref", "alt", "id")]
    return [":".join(map(str, site)) for site in zip(*columns, strict=True)]


def _check_same_split(real, whole, name: str) -> None:
    import numpy as np

    if not np.array_equal(real.samples, whole.samples):
        only = sorted(set(whole.samples.tolist()) ^ set(real.samples.tolist()))
        raise InputError(
            f"{name} kept {real.n_samples} individuals and the whole region {whole.n_samples}"
            f" (in one but not the other: {', '.join(only[:5]) or 'none, another order'}): the "
            "windows' models were not trained on the same individuals",
            "keep the same samples in every window: with windows, set unphased to refuse or "
            "drop_sites rather than drop_samples",
        )
    moved = np.flatnonzero(real.split != whole.split)
    if len(moved):
        i = moved[0]
        raise InputError(
            f"{name} puts {len(moved)} individuals on another side of the train/test split than "
            f"the whole region (first: {whole.samples[i]}, {real.split[i]} in the window, "
            f"{whole.split[i]} in the whole region)",
            "encode every window with the same split settings (rerun its encode step)",
        )


def _check_sites(joined, keys, names) -> None:
    """Refuse joined sites (``chrom:pos:ref:alt:id`` str arrays) that are not the whole region's."""
    import numpy as np

    if len(joined) == len(keys) and (joined == keys).all():
        return
    missing = np.setdiff1d(keys, joined)
    extra = np.setdiff1d(joined, keys)
    if len(missing) or len(extra):
        detail = (
            f"{len(missing)} sites of the whole region are in no window (first: "
            f"{', '.join(missing[:3]) or '-'}) and {len(extra)} window sites are not in the whole "
            f"region (first: {', '.join(extra[:3]) or '-'})"
        )
    else:
        detail = "the same sites appear in another order or more than once (overlapping windows)"
    raise InputError(
        f"the windows' sites ({', '.join(names)}: {len(joined)} in all) are not the {len(keys)} "
        f"sites of the whole region: {detail}",
        "the windows must cover the region exactly and use the dataset's filters; rerun the "
        "subset and encode steps of the windows and of the dataset",
    )


def gather_windows(
    window_ag_npz,
    window_haplotypes_npz,
    haplotypes_npz,
    vcf_out,
    npz_out,
    hapt_out,
    dataset: str = "",
    regions=(),
) -> None:
    """Join one model's AGs of every window and write them as VCF, npz and hapt.

    Parameters
    ----------
    window_ag_npz : list of path
        ``ag.npz`` of each window (from the sample step), in any order.
    window_haplotypes_npz : list of path
        ``haplotypes.npz`` of each window, in the same order: their split is checked against
        the whole region's.
    haplotypes_npz : path
        ``haplotypes.npz`` of the whole region: the joined sites must be its sites.
    vcf_out, npz_out, hapt_out : path
        Outputs, as the sample step writes them (each written atomically).
    dataset : str
        The windowed dataset's name (VCF header and npz meta).
    regions : list of str, optional
        The windows' regions, in the order of ``window_ag_npz`` (VCF header).

    Raises
    ------
    InputError
        See :func:`join_windows`.
    """
    from . import __version__, vcf
    from .haplotypes import HaplotypeSet

    window_ags = [HaplotypeSet.load(path) for path in window_ag_npz]
    names = [
        ags.meta.get("dataset") or str(path)
        for ags, path in zip(window_ags, window_ag_npz, strict=True)
    ]
    whole = HaplotypeSet.load(haplotypes_npz)
    reals = [HaplotypeSet.load(path) for path in window_haplotypes_npz]
    ags = join_windows(window_ags, whole, reals, names)
    order = genomic_order(window_ags, whole)
    metas = [window_ags[k].meta for k in order]
    model = metas[0].get("model", "")
    settings = sorted({m.get("settings", "") for m in metas})
    seeds = [m.get("seed", "") for m in metas]
    epochs = [m.get("epochs_trained", "") for m in metas]
    ags.meta.update(
        dataset=dataset,
        model=model,
        settings=settings[0] if len(settings) == 1 else json.dumps(settings),
        seed=",".join(seeds),
        epochs_trained=",".join(epochs),
        regions=",".join(regions[k] for k in order) if regions else "",
    )
    header_lines = [
        f"##ag_source=artificial_genomes {__version__}",
        f"##ag_model={model}",
        f"##ag_settings={ags.meta['settings']}",
        f"##ag_dataset={dataset}",
        f"##ag_windows={ags.meta['windows']}",
        f"##ag_window_regions={ags.meta['regions']}",
        f"##ag_window_seeds={ags.meta['seed']}",
        f"##ag_window_epochs_trained={ags.meta['epochs_trained']}",
        (
            "##ag_window_joins=AG haplotype i joins haplotype i of each window; the windows were "
            "drawn independently, so LD across a window boundary is not modelled"
        ),
    ]
    vcf.write_artificial(ags, vcf_out, npz_out, hapt_out, header_lines)
    sizes = ", ".join(f"{names[k]} {window_ags[k].n_variants}" for k in order)
    log.info(
        "joined %d windows of %s (%s SNPs) into %d AG haplotypes x %d SNPs of %s, in genomic "
        "order -> %s, %s, %s",
        len(window_ags), model, sizes, ags.haplotypes.shape[0], ags.n_variants, dataset,
        vcf_out, npz_out, hapt_out,
    )  # fmt: skip
