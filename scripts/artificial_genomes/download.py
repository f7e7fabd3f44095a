"""Fetch a region of phased genotypes and the sample panel, from a local file or a 1KGP release.

Remote releases are never downloaded whole: bcftools (through pysam) reads the region straight
from the HTTP(S) URL with the remote tabix index, transferring only the compressed blocks that
hold it. The index is fetched first into a temporary folder and handed to htslib as
``url##idx##local.tbi``, because htslib would otherwise save the remote index into the current
directory.

Panels come in three layouts, all read by :func:`read_panel` and written out in one normalised
form, a TSV with header ``sample  population  super_population``:

* 1KGP phase 3 (``integrated_call_samples_v3.20130502.ALL.panel``): ``sample pop super_pop gender``;
* NYGC 30x (``20130606_g1k_3202_samples_ped_population.txt``): ``FamilyID SampleID FatherID
  MotherID Sex Population Superpopulation``, whitespace-separated, ``0`` for an unknown parent;
* the normalised TSV itself.
"""

import gzip
import logging
import os
import re
import shutil
import struct
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pysam.bcftools

from .errors import InputError
from .fileio import atomic_path
from .regions import parse_region

log = logging.getLogger(__name__)

PANEL_COLUMNS = ["sample", "population", "super_population"]
PANEL_FORMATS = ("phase3", "nygc_ped", "normalised")
# Seconds before retry k (k = 1, 2, ...) is BACKOFF_S * 2 ** (k - 1); tests set it to 0.
BACKOFF_S = 2.0
URL_TIMEOUT_S = 60


# ---------------------------------------------------------------------------------------------
# Regions
# ---------------------------------------------------------------------------------------------


def format_region(chrom: str, start: int | None, end: int | None) -> str:
    """The htslib form of a parsed region."""
    return chrom if start is None else f"{chrom}:{start}-{end}"


def check_contig(chrom: str, contigs, where: str) -> None:
    """Refuse a region whose contig is not among ``contigs``, naming a ``chr`` prefix mismatch.

    Does nothing when ``contigs`` is empty (nothing known to compare with).
    """
    contigs = list(contigs)
    if not contigs or chrom in contigs:
        return
    other = chrom[3:] if chrom.startswith("chr") else f"chr{chrom}"
    if other in contigs:
        raise InputError(
            f"the region names contig {chrom!r} but {where} calls it {other!r} "
            f"({'no' if chrom.startswith('chr') else 'a'} 'chr' prefix)",
            f"write the region with {other!r} (e.g. {other}:start-end); GRCh37 1KGP files use "
            "1, 2, ...; the GRCh38 NYGC files use chr1, chr2, ...",
        )
    shown = ", ".join(contigs[:25]) + (", ..." if len(contigs) > 25 else "")
    raise InputError(
        f"contig {chrom!r} of the region is not in {where} (contigs: {shown})",
        "pick a region on one of these contigs",
    )


# ---------------------------------------------------------------------------------------------
# Panels
# ---------------------------------------------------------------------------------------------


def read_panel(path, panel_format: str | None = None, drop_relatives: bool = True) -> pd.DataFrame:
    """Read a sample panel in any supported layout into the normalised table.

    Parameters
    ----------
    path : path
        Panel file (layouts in the module docstring).
    panel_format : {"phase3", "nygc_ped", "normalised"} or None
        Layout; None guesses it from the header line.
    drop_relatives : bool
        NYGC layout only: leave out every sample whose FatherID or MotherID names a sample of the
        same file, i.e. the children of the trios (and duos) sequenced with their parents. Other
        relatives (siblings, second-degree relatives), which the file does not mark, stay in.

    Returns
    -------
    pandas.DataFrame
        Columns ``sample``, ``population``, ``super_population`` (str), one row per sample, in
        file order.

    Raises
    ------
    InputError
        Unknown layout, missing columns, duplicated or empty sample ids.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"panel file {path} does not exist", "check the source's panel path")
    with open(path) as handle:
        header = handle.readline().split()
    if panel_format is None:
        panel_format = _guess_panel_format(header, path)
    if panel_format not in PANEL_FORMATS:
        raise InputError(
            f"unknown panel format {panel_format!r}", f"use one of {', '.join(PANEL_FORMATS)}"
        )
    table = pd.read_csv(path, sep=r"\s+", dtype=str, keep_default_na=False)
    rename = {
        "phase3": {"sample": "sample", "pop": "population", "super_pop": "super_population"},
        "nygc_ped": {
            "SampleID": "sample",
            "Population": "population",
            "Superpopulation": "super_population",
        },
        "normalised": {c: c for c in PANEL_COLUMNS},
    }[panel_format]
    missing = [c for c in rename if c not in table.columns]
    if missing:
        raise InputError(
            f"panel {path} ({panel_format} layout) lacks the column(s) {', '.join(missing)}; "
            f"its header is {' '.join(header)}",
            "give a panel in the 1KGP phase 3, NYGC ped or normalised layout",
        )
    if panel_format == "nygc_ped" and drop_relatives:
        table = _drop_children(table, path)
    panel = table[list(rename)].rename(columns=rename).reset_index(drop=True)
    if (panel["sample"] == "").any():
        raise InputError(f"panel {path} has rows without a sample id", "fill in or remove them")
    duplicated = panel["sample"][panel["sample"].duplicated()].unique()
    if len(duplicated):
        raise InputError(
            f"panel {path} lists {len(duplicated)} sample(s) more than once "
            f"(first: {', '.join(duplicated[:5])})",
            "keep one row per sample",
        )
    return panel


def _guess_panel_format(header: list[str], path) -> str:
    if header[:3] == PANEL_COLUMNS:
        return "normalised"
    if header[:3] == ["sample", "pop", "super_pop"]:
        return "phase3"
    if "SampleID" in header and "Population" in header:
        return "nygc_ped"
    raise InputError(
        f"cannot tell the layout of panel {path} from its header {' '.join(header)!r}",
        "use the 1KGP phase 3 panel (sample pop super_pop gender), the NYGC ped file "
        "(FamilyID SampleID FatherID MotherID Sex Population Superpopulation) or a TSV with "
        "header sample, population, super_population; or set panel_format in the source",
    )


def _drop_children(table: pd.DataFrame, path) -> pd.DataFrame:
    for column in ("FatherID", "MotherID"):
        if column not in table.columns:
            raise InputError(
                f"panel {path} has no {column} column, so relatives cannot be found",
                "give the NYGC ped file as published, or set drop_relatives: false",
            )
    known = set(table["SampleID"])
    child = table["FatherID"].isin(known) | table["MotherID"].isin(known)
    if child.any():
        log.info(
            "panel: left out %d of %d samples that are children of parents in the panel "
            "(drop_relatives; e.g. %s)",
            int(child.sum()), len(table), ", ".join(table.loc[child, "SampleID"][:5]),
        )  # fmt: skip
    return table[~child]


def write_panel(panel: pd.DataFrame, path) -> None:
    """Write the normalised panel TSV atomically."""
    with atomic_path(path) as tmp:
        panel[PANEL_COLUMNS].to_csv(tmp, sep="\t", index=False)


# ---------------------------------------------------------------------------------------------
# HTTP helpers
# ---------------------------------------------------------------------------------------------


def _is_remote(path: str) -> bool:
    return re.match(r"^(https?|ftp)://", str(path)) is not None


def _retry(action, what: str, retries: int):
    """Run ``action()``; on errors other than InputError try again with exponential backoff."""
    attempts = max(1, int(retries))
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except InputError:
            raise
        except Exception as exc:  # network faults, truncated transfers
            if attempt == attempts:
                raise RuntimeError(f"{what} failed after {attempts} attempt(s): {exc}") from exc
            wait = BACKOFF_S * 2 ** (attempt - 1)
            log.warning("%s failed (attempt %d of %d: %s); retrying in %.0f s",
                        what, attempt, attempts, exc, wait)  # fmt: skip
            time.sleep(wait)


def _not_found(url: str, what: str) -> InputError:
    return InputError(
        f"HTTP 404 (not found) for the {what} at {url}",
        "check the URL template in the config (release file names differ between releases and "
        "for chrX, e.g. v5a/v5b, v1b/v1c) and the chromosome name",
    )


def _check_url(url: str, what: str) -> None:
    """HEAD an HTTP(S) URL; InputError on 404 (other errors propagate for a retry)."""
    if not url.startswith(("http://", "https://")):
        return
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=URL_TIMEOUT_S):
            pass
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise _not_found(url, what) from None
        raise


def _download(url: str, dest: Path, what: str) -> None:
    """Copy ``url`` to ``dest``; InputError on 404."""
    try:
        with (
            urllib.request.urlopen(url, timeout=URL_TIMEOUT_S) as response,
            open(dest, "wb") as handle,
        ):
            shutil.copyfileobj(response, handle)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise _not_found(url, what) from None
        raise


def tabix_contigs(tbi_path) -> list[str]:
    """Contig names stored in a tabix (``.tbi``) index, in index order."""
    with gzip.open(tbi_path, "rb") as handle:
        head = handle.read(36)
        if head[:4] != b"TBI\1":
            raise InputError(f"{tbi_path} is not a tabix index", "give a .tbi index")
        (name_bytes,) = struct.unpack("<i", head[32:36])
        names = handle.read(name_bytes)
    return [n.decode() for n in names.split(b"\0") if n]


# ---------------------------------------------------------------------------------------------
# bcftools
# ---------------------------------------------------------------------------------------------


def bcftools(command: str, *args: str, what: str = "") -> str:
    """Run ``bcftools <command> <args>`` through pysam; failures become a readable error.

    Standard output is returned, except when ``-o`` is among the arguments: pysam's stdout
    capture would then swallow the output file's content, so it is turned off.
    """
    args = [str(a) for a in args]
    try:
        return getattr(pysam.bcftools, command)(*args, catch_stdout="-o" not in args)
    except pysam.utils.SamtoolsError as exc:
        message = str(exc)
        stderr = message.split("stderr=", 1)[-1].strip()
        raise RuntimeError(f"bcftools {command} failed{' on ' + what if what else ''}: {stderr}")


def index_vcf(vcf_gz, tbi_out) -> int:
    """Tabix-index the bgzipped VCF ``vcf_gz`` into ``tbi_out``; returns its record count."""
    try:
        pysam.tabix_index(str(vcf_gz), preset="vcf", force=True, keep_original=True)
    except OSError as exc:  # htslib's own message went to stderr; say it in words
        Path(f"{vcf_gz}.tbi").unlink(missing_ok=True)
        raise InputError(
            f"cannot index {vcf_gz} ({exc}); its records may not be sorted by position",
            "sort it first: bcftools sort -Oz -o sorted.vcf.gz input.vcf.gz",
        ) from None
    n_records = int(bcftools("index", "-n", vcf_gz).strip() or 0)
    os.replace(f"{vcf_gz}.tbi", tbi_out)
    return n_records


def index_status(path) -> str:
    """State of the index next to a local VCF/BCF.

    Returns
    -------
    str
        ``"tbi"`` or ``"csi"`` (the first found of ``path.tbi``, ``path.csi``), ``"none"``, or
        ``"stale"`` when the index is older than the file (htslib's own test, whole seconds):
        such an index may describe another version of the file, so it is not used.
    """
    for ext in ("tbi", "csi"):
        index = Path(f"{path}.{ext}")
        if index.exists():
            if int(index.stat().st_mtime) < int(Path(path).stat().st_mtime):
                return "stale"
            return ext
    return "none"


def local_contigs(path) -> tuple[list[str], bool]:
    """Contigs named by a local VCF/BCF (header, and index when there is a usable one) and
    whether such an index (``.tbi`` or ``.csi`` next to it, not older than the file) was found.
    Works on plain-gzip and plain VCFs too. A stale index is reported in the log and ignored."""
    header = bcftools("view", "-h", path, what=str(path))
    contigs = re.findall(r"^##contig=<ID=([^,>]+)", header, flags=re.MULTILINE)
    status = index_status(path)
    if status == "stale":
        log.warning(
            "the index of %s is older than the file, so it may not match it: ignoring it and "
            "reading the whole file (to use an index again: bcftools index -f -t %s)",
            path, path,
        )  # fmt: skip
    indexed = status in ("tbi", "csi")
    if indexed:
        with pysam.VariantFile(str(path)) as vf:
            contigs += [c for c in vf.index if c not in contigs]
    return contigs, indexed


def record_contigs(path) -> list[str]:
    """Contigs of the records of a local VCF/BCF, in order of first appearance (reads it all)."""
    with tempfile.TemporaryDirectory(prefix="ag_contigs.") as tmp:
        listing = Path(tmp) / "chrom.txt"
        bcftools("query", "-f", "%CHROM\\n", "-o", listing, path, what=str(path))
        with open(listing) as handle:
            return list(dict.fromkeys(line.rstrip("\n") for line in handle))


def sort_if_unsorted(path, tmp_dir, output_type: str) -> bool:
    """Sort the VCF/BCF ``path`` in place with ``bcftools sort`` when its records are out of order.

    Parameters
    ----------
    path : path
        Bgzipped VCF or BCF.
    tmp_dir : path
        Folder for bcftools' temporary files.
    output_type : {"z", "b"}
        bcftools output type of ``path`` (bgzipped VCF or BCF).

    Returns
    -------
    bool
        True when the records had to be sorted.
    """
    path = Path(path)
    listing = Path(tmp_dir) / "order.tsv"
    bcftools("query", "-f", "%CHROM\\t%POS\\n", "-o", listing, path, what=str(path))
    if listing.stat().st_size == 0:  # no record
        return False
    table = pd.read_csv(listing, sep="\t", header=None, names=["chrom", "pos"],
                        dtype={"chrom": str, "pos": np.int64})  # fmt: skip
    listing.unlink()
    chrom, pos = table["chrom"].to_numpy(), table["pos"].to_numpy()
    same = chrom[1:] == chrom[:-1]
    blocks = chrom[np.r_[True, ~same]]  # one entry per run of a contig
    if not (same & (np.diff(pos) < 0)).any() and len(set(blocks)) == len(blocks):
        return False
    log.info("records of %s are not sorted by position: sorting them (bcftools sort)", path)
    ordered = Path(tmp_dir) / f"sorted.{path.name}"
    bcftools("sort", f"-O{output_type}", "-T", tmp_dir, "-o", ordered, path, what=str(path))
    os.replace(ordered, path)
    return True


def vcf_samples(path) -> list[str]:
    """Sample ids of a VCF/BCF (any compression), in column order."""
    header = bcftools("view", "-h", path, what=str(path))
    columns = header.rstrip("\n").rsplit("\n", 1)[-1].split("\t")
    return columns[9:]


# ---------------------------------------------------------------------------------------------
# The step
# ---------------------------------------------------------------------------------------------


def fetch_source(
    source: dict, region: str | None, releases: dict, vcf_out, panel_out, retries: int = 3
) -> dict:
    """Write the region of a local VCF/BCF or of a 1KGP release, indexed, plus the panel.

    Parameters
    ----------
    source : dict
        ``{"vcf": path, "panel": path}`` for a local VCF/BCF (bgzipped or not; indexed or not)
        and its panel, or ``{"release": name, "chrom": "2"}`` for a release of ``releases``.
        Optional keys: ``panel_format`` (local only; guessed from the header when absent) and
        ``drop_relatives`` (default True; NYGC ped panels only, see :func:`read_panel`).
    region : str or None
        ``chrom:start-end`` (1-based, inclusive) or ``chrom``. Records overlapping it are kept
        (an indel starting before the region included; the subset step drops those). None takes
        the whole local file; a release needs a region.
    releases : dict
        ``{name: {"vcf_url": "...chr{chrom}...", "panel_url": ..., "panel_format": ...}}``.
    vcf_out : path
        Bgzipped VCF written here, with its index at ``vcf_out + ".tbi"``.
    panel_out : path
        Normalised panel TSV (``sample``, ``population``, ``super_population``).
    retries : int
        Attempts per network transfer, with exponential backoff between them.

    Returns
    -------
    dict
        ``n_records``, ``n_samples``, ``n_panel_samples`` (panel samples found in the VCF),
        ``bytes`` (size of ``vcf_out``), ``vcf_url``/``panel_url`` (or local paths), ``region``.

    Raises
    ------
    InputError
        Unknown release, missing file, bad region or contig, HTTP 404 (naming the URL), a
        region holding no records, or a panel sharing no sample with the VCF.
    """
    parsed = parse_region(region)
    vcf_out = Path(vcf_out)
    drop_relatives = bool(source.get("drop_relatives", True))
    with tempfile.TemporaryDirectory(prefix="ag_download.") as tmp:
        tmp = Path(tmp)
        if "release" in source:
            vcf_src, panel_src, panel_format, index = _prepare_release(
                source, parsed, releases, tmp, retries
            )
        elif "vcf" in source:
            vcf_src, panel_src = str(source["vcf"]), source.get("panel")
            panel_format, index = source.get("panel_format"), None
            if panel_src is None:
                raise InputError("the local source has no panel", "add source.panel: <path>")
            if not Path(vcf_src).exists():
                raise InputError(f"VCF {vcf_src} does not exist", "check source.vcf")
        else:
            raise InputError(
                f"source {source!r} has neither 'vcf' nor 'release'",
                "write source: {vcf: path, panel: path} or source: {release: NAME, chrom: '2'}",
            )
        panel = read_panel(panel_src, panel_format, drop_relatives)
        n_records = _write_region(vcf_src, index, parsed, vcf_out, tmp, retries)
    samples = vcf_samples(vcf_out)
    in_vcf = panel["sample"].isin(set(samples))
    if not in_vcf.any():
        vcf_out.unlink()
        Path(f"{vcf_out}.tbi").unlink()
        raise InputError(
            f"none of the {len(panel)} panel samples is in the VCF ({len(samples)} samples, "
            f"first {', '.join(samples[:3])}; panel first {', '.join(panel['sample'][:3])})",
            "give the panel that belongs to this VCF",
        )
    if not in_vcf.all():
        log.warning("%d of %d panel samples are not in the VCF (first: %s)",
                    int((~in_vcf).sum()), len(panel),
                    ", ".join(panel.loc[~in_vcf, "sample"][:5]))  # fmt: skip
    write_panel(panel, panel_out)
    stats = {
        "n_records": n_records,
        "n_samples": len(samples),
        "n_panel_samples": int(in_vcf.sum()),
        "bytes": vcf_out.stat().st_size,
        "vcf_url": vcf_src if isinstance(vcf_src, str) else str(vcf_src),
        "panel_url": str(panel_src),
        "region": region,
    }
    log.info(
        "download: %d records x %d samples of %s (region %s, %d bytes) -> %s; panel %s: %d "
        "samples (%d in the VCF) -> %s",
        n_records, len(samples), stats["vcf_url"], region or "whole file", stats["bytes"],
        vcf_out, stats["panel_url"], len(panel), stats["n_panel_samples"], panel_out,
    )  # fmt: skip
    return stats


def _prepare_release(source, parsed, releases, tmp: Path, retries: int):
    """Resolve a release's URLs, fetch its index and panel into ``tmp``, check the contig."""
    name = source["release"]
    if name not in releases:
        raise InputError(
            f"unknown release {name!r}", f"use one of: {', '.join(releases) or '(none configured)'}"
        )
    if "chrom" not in source:
        raise InputError(f"the source of release {name!r} has no chrom", "add chrom: '2' (say)")
    if parsed is None:
        raise InputError(
            f"release {name!r} needs a region: a whole chromosome would transfer gigabytes",
            "set the dataset's region, e.g. 2:136400000-136700000",
        )
    release = releases[name]
    url = release["vcf_url"].format(chrom=source["chrom"])
    _retry(lambda: _check_url(url, "VCF"), f"checking {url}", retries)
    index = tmp / "source.vcf.gz.tbi"
    _retry(lambda: _download(url + ".tbi", index, "tabix index"), f"fetching {url}.tbi", retries)
    check_contig(parsed[0], tabix_contigs(index), f"the index of {url}")
    panel = tmp / "panel.txt"
    panel_url = release["panel_url"]
    _retry(lambda: _download(panel_url, panel, "panel"), f"fetching {panel_url}", retries)
    log.info("release %s: VCF %s, panel %s", name, url, panel_url)
    return url, panel, release.get("panel_format"), index


def _write_region(vcf_src: str, index, parsed, vcf_out: Path, tmp: Path, retries: int) -> int:
    """bcftools view of the region (or all) into ``vcf_out`` + ``.tbi``; returns the record count.

    A local file without a usable index is streamed through (``-t``), and its output sorted when
    its records were out of order, so that it can be indexed.
    """
    args, indexed = [], True
    if _is_remote(vcf_src):
        source = f"{vcf_src}##idx##{index}"
        args += ["-r", format_region(*parsed)]
    else:
        source = vcf_src
        contigs, indexed = local_contigs(vcf_src)
        if parsed is not None:
            check_contig(parsed[0], contigs, vcf_src)
            if indexed:
                args += ["-r", format_region(*parsed)]
            else:
                log.info("%s has no usable index: streaming through it for the region", vcf_src)
                args += ["-t", format_region(*parsed), "--targets-overlap", "1"]
    with atomic_path(vcf_out) as tmp_vcf, atomic_path(f"{vcf_out}.tbi") as tmp_tbi:

        def stream():
            bcftools("view", *args, "-Oz", "-o", tmp_vcf, source, what=vcf_src)

        # only network reads are retried: a local file that fails once fails again
        _retry(stream, f"reading {vcf_src}", retries if _is_remote(vcf_src) else 1)
        if not indexed:
            sort_if_unsorted(tmp_vcf, tmp, "z")
        n_records = index_vcf(tmp_vcf, tmp_tbi)
        vcf_samples(tmp_vcf)  # opens and parses the header
        if n_records == 0:
            raise _no_records(vcf_src, parsed)
    return n_records


def _no_records(vcf_src: str, parsed) -> InputError:
    """The error for a region (or file) without records, naming a contig mismatch when it is one."""
    if parsed is None:
        return InputError(
            f"{vcf_src} holds 0 records (0 variants after filters, 0 before): it has a header "
            "but no record",
            "give a VCF with records, or check that the file was written completely",
        )
    if not _is_remote(vcf_src):
        # a header without ##contig lines tells nothing: the records' CHROM column does
        check_contig(parsed[0], record_contigs(vcf_src), f"the CHROM column of {vcf_src}")
    return InputError(
        f"region {format_region(*parsed)} of {vcf_src} holds 0 records (0 variants after "
        "filters, 0 before)",
        "check the region's coordinates and genome build (phase 3 is GRCh37, NYGC 30x GRCh38) "
        "and the contig name",
    )
