"""Genomic region strings (``chrom:start-end``, 1-based, both ends included).

Standard library only: Snakemake's own process imports it (through the window helpers) to check
the config before any job runs.
"""

import re

from .errors import InputError


def parse_region(
    region: str | None, what: str = "region"
) -> tuple[str, int | None, int | None] | None:
    """Split a region string into contig, start and end.

    Parameters
    ----------
    region : str or None
        ``chrom:start-end`` (1-based, both ends included; thousands separators allowed) or just
        ``chrom``.
    what : str
        How error messages name the value (e.g. ``"window 2"``).

    Returns
    -------
    tuple (str, int or None, int or None) or None
        ``(chrom, start, end)``; start and end are None for a whole contig. None for None.

    Raises
    ------
    InputError
        Malformed region, start < 1 or start > end.
    """
    if region is None:
        return None
    text = str(region).strip()
    match = re.fullmatch(r"([^:\s]+)(?::([\d,]+)-([\d,]+))?", text)
    if not match:
        raise InputError(
            f"{what} {region!r} is not of the form chrom:start-end or chrom",
            "write it like 2:136400000-136700000 (1-based, both ends included) or 2",
        )
    chrom, start, end = match.groups()
    if start is None:
        return chrom, None, None
    start, end = int(start.replace(",", "")), int(end.replace(",", ""))
    if start < 1 or start > end:
        raise InputError(
            f"{what} {region!r} has start {start} and end {end}",
            "use 1 <= start <= end (1-based, both ends included)",
        )
    return chrom, start, end
