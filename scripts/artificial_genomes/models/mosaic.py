"""Li-Stephens mosaic baseline: each AG is pieced together from training haplotypes.

The copying model of Li and Stephens (2003, Genetics 165:2213), run forwards as a generator. An AG
starts by copying a training haplotype chosen uniformly among the ``K`` of them. Between SNPs
``j - 1`` and ``j``, ``r_j`` Morgans apart on the genetic map, it jumps with probability
``1 - exp(-rho_j / K)``, ``rho_j = 4 * Ne * r_j``, to a haplotype drawn uniformly among all ``K``
(the one it copies included, as in Li and Stephens; so it changes haplotype with probability
``(1 - exp(-rho_j / K)) * (K - 1) / K``). The first SNP of each contig is a free jump (probability
1): SNPs on different chromosomes are unlinked. Each copied allele is then flipped with the
copying-error (mutation) probability ``theta / (2 * (K + theta))`` of their model, with the
Watterson-based ``theta = 1 / sum_{m=1}^{K-1} 1/m`` as default.

Positions come from a genetic map (``pos chr cM`` text, plain or gzipped, as shipped with SHAPEIT
and GLIMPSE), interpolated linearly between map rows and clamped beyond its ends; without a map a
constant ``recombination_rate`` in cM/Mb is used. The default ``ne = 20,000`` is the value the
IMPUTE2 authors recommend for Li-Stephens copying with 1000 Genomes reference panels.

Like ``copy``, the model holds the training haplotypes themselves (in ``model.pt``): it is a
baseline of realism, not a private generator.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..errors import InputError

log = logging.getLogger(__name__)

# Morgans per base pair for a rate of 1 cM/Mb.
MORGANS_PER_BP_PER_CM_MB = 1e-8
# SNPs whose random draws are made at once when sampling (bounds memory to a few MB per AG).
SAMPLE_CHUNK = 256
MAP_COLUMNS = ("pos", "chr", "cM")


@dataclass
class MosaicConfig:
    """Settings of the Li-Stephens mosaic (defaults: IMPUTE2's Ne, Li-Stephens' theta)."""

    genetic_map: str | None = None
    recombination_rate: float = field(default=1.0, metadata={"min": 0})
    ne: float = field(default=20_000.0, metadata={"min": 0})
    theta: float | None = field(default=None, metadata={"min": 0})


def read_genetic_map(path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read a genetic map with the header ``pos chr cM`` (whitespace-separated, gzip allowed).

    Parameters
    ----------
    path : path
        Map file, one row per position (SHAPEIT/GLIMPSE layout).

    Returns
    -------
    dict
        ``{contig: (pos, cm)}`` with ``pos`` int64 and ``cm`` float64 arrays of shape
        (n_rows,), sorted by position.

    Raises
    ------
    InputError
        Missing file, other columns, no rows, or a genetic position that decreases along a contig.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"genetic map {path} does not exist",
            "fix the mosaic setting 'genetic_map' or drop it to use a constant recombination_rate",
        )
    table = pd.read_csv(path, sep=r"\s+", dtype={"chr": str})
    if tuple(table.columns[:3]) != MAP_COLUMNS:
        raise InputError(
            f"genetic map {path} has the columns {' '.join(map(str, table.columns[:3]))!r}, "
            f"not {' '.join(MAP_COLUMNS)!r}",
            "give a map in the SHAPEIT/GLIMPSE layout: a header 'pos chr cM', one row per position",
        )
    if table.empty:
        raise InputError(f"genetic map {path} holds no rows", "give a whole map file")
    maps = {}
    for contig, rows in table.groupby("chr", sort=False):
        rows = rows.sort_values("pos", kind="stable")
        pos = rows["pos"].to_numpy(dtype=np.int64)
        cm = rows["cM"].to_numpy(dtype=np.float64)
        if not np.isfinite(cm).all() or (np.diff(cm) < 0).any():
            raise InputError(
                f"genetic map {path}: genetic positions (cM) of contig {contig} are not finite "
                "and non-decreasing along the chromosome",
                "give a valid map (cM must grow with the position)",
            )
        maps[str(contig)] = (pos, cm)
    return maps


def genetic_positions(
    chrom: np.ndarray,
    pos: np.ndarray,
    genetic_map: str | None = None,
    recombination_rate: float = 1.0,
) -> np.ndarray:
    """Genetic position of each SNP in Morgans.

    Parameters
    ----------
    chrom : numpy.ndarray, str, shape (n_variants,)
    pos : numpy.ndarray, int, shape (n_variants,)
        1-based base-pair positions.
    genetic_map : str, optional
        Path of a ``pos chr cM`` map (see :func:`read_genetic_map`); ``{chrom}`` in it is replaced
        by each contig name, for one file per chromosome. Positions between map rows are
        interpolated linearly; positions beyond its first or last row get that row's value.
    recombination_rate : float
        cM per Mb, used when no map is given: ``pos * recombination_rate * 1e-8`` Morgans.

    Returns
    -------
    numpy.ndarray, float64, shape (n_variants,)

    Raises
    ------
    InputError
        A contig of the SNPs that the map does not have (the message lists the map's contigs).
    """
    chrom = np.asarray(chrom).astype(str)
    pos = np.asarray(pos, dtype=np.int64)
    if genetic_map is None:
        return pos * (recombination_rate * MORGANS_PER_BP_PER_CM_MB)
    morgans = np.empty(len(pos), dtype=np.float64)
    cache = {}
    for contig in dict.fromkeys(chrom.tolist()):
        path = genetic_map.replace("{chrom}", contig)
        if path not in cache:
            cache[path] = read_genetic_map(path)
        maps = cache[path]
        if contig not in maps:
            raise InputError(
                f"genetic map {path} has contig(s) {', '.join(sorted(maps))} but the SNPs lie on "
                f"contig {contig!r}",
                "give a map whose 'chr' column names the contig as the VCF does ('2' or "
                "'chr2'), one with '{chrom}' in its path for several chromosomes, or drop "
                "genetic_map to use a constant recombination_rate",
            )
        map_pos, map_cm = maps[contig]
        here = chrom == contig
        morgans[here] = np.interp(pos[here], map_pos, map_cm) / 100.0
    return morgans


def switch_probabilities(
    chrom: np.ndarray, morgans: np.ndarray, n_haplotypes: int, ne: float
) -> np.ndarray:
    """Probability of a jump before each SNP: ``1 - exp(-4 * ne * r_j / n_haplotypes)``.

    Parameters
    ----------
    chrom : numpy.ndarray, str, shape (n_variants,)
    morgans : numpy.ndarray, float64, shape (n_variants,)
        Genetic positions (:func:`genetic_positions`).
    n_haplotypes : int
        ``K``, the number of haplotypes copied from.
    ne : float
        Effective population size.

    Returns
    -------
    numpy.ndarray, float64, shape (n_variants,)
        Entry ``j`` is the jump probability between SNPs ``j - 1`` and ``j``; 1 at the first SNP
        and at the first SNP of every other contig (a free jump: no linkage across contigs).
    """
    chrom = np.asarray(chrom).astype(str)
    prob = np.ones(len(chrom), dtype=np.float64)
    if len(chrom) > 1:
        # Positions are sorted within a contig, so only float rounding can make a gap negative.
        gaps = np.maximum(np.diff(morgans), 0.0)
        same = chrom[1:] == chrom[:-1]
        prob[1:] = np.where(same, -np.expm1(-4.0 * ne * gaps / n_haplotypes), 1.0)
    return prob


def watterson_theta(n_haplotypes: int) -> float:
    """Li and Stephens' default mutation parameter ``1 / sum_{m=1}^{K-1} 1/m`` (0 for K < 2)."""
    if n_haplotypes < 2:
        return 0.0
    return float(1.0 / np.sum(1.0 / np.arange(1, n_haplotypes)))


def copying_error(theta: float, n_haplotypes: int) -> float:
    """Probability that a copied allele is flipped: ``theta / (2 * (K + theta))``."""
    return float(theta / (2.0 * (n_haplotypes + theta))) if theta > 0 else 0.0


@torch.no_grad()
def draw_mosaic(
    haplotypes: torch.Tensor,
    switch_prob: torch.Tensor,
    flip_prob: float,
    n: int,
    generator: torch.Generator,
    return_sources: bool = False,
):
    """Draw ``n`` mosaics of the rows of ``haplotypes``.

    Vectorised over AGs and over chunks of :data:`SAMPLE_CHUNK` SNPs: within a chunk the copied
    row at each SNP is the draw made at the last jump at or before it (a running maximum of
    jump indices), or the row copied at the end of the previous chunk.

    Parameters
    ----------
    haplotypes : torch.Tensor, int8, shape (K, n_variants)
        The haplotypes copied from, 0/1.
    switch_prob : torch.Tensor, float64, shape (n_variants,)
        Jump probability before each SNP (:func:`switch_probabilities`); entry 0 should be 1.
    flip_prob : float
        Probability that a copied allele is flipped.
    n : int
        Number of mosaics.
    generator : torch.Generator
        On the device of ``haplotypes``.
    return_sources : bool
        Also return the index of the copied row at each SNP.

    Returns
    -------
    torch.Tensor, int8, shape (n, n_variants)
        And, with ``return_sources``, an int64 tensor (n, n_variants) of row indices.
    """
    n_rows, n_variants = haplotypes.shape
    device = haplotypes.device
    out = torch.empty((n, n_variants), dtype=torch.int8, device=device)
    sources = (
        torch.empty((n, n_variants), dtype=torch.int64, device=device) if return_sources else None
    )
    current = torch.randint(n_rows, (n,), generator=generator, device=device)
    for start in range(0, n_variants, SAMPLE_CHUNK):
        stop = min(start + SAMPLE_CHUNK, n_variants)
        width = stop - start
        uniform = torch.rand((n, width), generator=generator, device=device, dtype=torch.float64)
        jump = uniform < switch_prob[start:stop]
        draws = torch.randint(n_rows, (n, width), generator=generator, device=device)
        steps = torch.arange(width, device=device).expand(n, width)
        last = torch.where(jump, steps, torch.full_like(steps, -1)).cummax(dim=1).values
        source = torch.where(last >= 0, draws.gather(1, last.clamp(min=0)), current[:, None])
        block = haplotypes[source, torch.arange(start, stop, device=device)]
        if flip_prob > 0:
            flips = torch.rand((n, width), generator=generator, device=device) < flip_prob
            block = block ^ flips.to(torch.int8)
        out[:, start:stop] = block
        if return_sources:
            sources[:, start:stop] = source
        current = source[:, -1]
    return (out, sources) if return_sources else out


class LiStephensMosaic(nn.Module):
    """Mosaics of training haplotypes with jumps along the genetic map (see the module docstring).

    Call :meth:`set_sites` (the training step does) before :meth:`prepare`.

    Parameters
    ----------
    config : MosaicConfig
    n_variants : int
    """

    name = "mosaic"
    Config = MosaicConfig
    loss_names = ()

    def __init__(self, config: MosaicConfig, n_variants: int):
        super().__init__()
        self.config = config
        self.n_variants = n_variants
        self.register_buffer("haplotypes", torch.zeros(0, n_variants, dtype=torch.int8))
        self.register_buffer("switch_prob", torch.ones(n_variants, dtype=torch.float64))
        self.register_buffer("flip_prob", torch.zeros((), dtype=torch.float64))
        self._sites = None

    @staticmethod
    def estimate_memory(config, n_variants: int, n_haplotypes: int) -> int:
        """Bytes needed: the data twice as int8, a few float64 arrays per SNP."""
        return 2 * n_haplotypes * n_variants + 32 * n_variants

    def set_sites(self, chrom: np.ndarray, pos: np.ndarray) -> None:
        """Place the SNPs on the genetic map.

        Parameters
        ----------
        chrom : numpy.ndarray, str, shape (n_variants,)
        pos : numpy.ndarray, int, shape (n_variants,)
        """
        if len(pos) != self.n_variants:
            raise ValueError(f"{len(pos)} positions for a model of {self.n_variants} variants")
        cfg = self.config
        morgans = genetic_positions(chrom, pos, cfg.genetic_map, cfg.recombination_rate)
        self._sites = (np.asarray(chrom).astype(str), morgans)

    def prepare(self, haplotypes: np.ndarray, seed: int, device: torch.device) -> None:
        """Keep ``haplotypes`` (int8, (K, n_variants)) and compute the jump probabilities."""
        if self._sites is None:
            raise RuntimeError(
                "the mosaic needs the SNP positions: call set_sites() before prepare()"
            )
        chrom, morgans = self._sites
        n_rows = haplotypes.shape[0]
        prob = switch_probabilities(chrom, morgans, n_rows, self.config.ne)
        theta = watterson_theta(n_rows) if self.config.theta is None else self.config.theta
        flip = copying_error(theta, n_rows)
        self.haplotypes = torch.from_numpy(np.ascontiguousarray(haplotypes, dtype=np.int8)).to(
            device
        )
        self.switch_prob = torch.from_numpy(prob).to(device)
        self.flip_prob = torch.tensor(flip, dtype=torch.float64, device=device)
        contigs = dict.fromkeys(chrom.tolist())
        length = sum(np.ptp(morgans[chrom == c]) for c in contigs) * 100
        log.info(
            "mosaic of %d haplotypes: %.4g cM over %d contig(s) (%s), Ne %g; %.3g jumps per AG "
            "on average besides the free one(s) at contig starts; theta %.4g, so each allele is "
            "flipped with probability %.3g",
            n_rows, length, len(contigs),
            f"map {self.config.genetic_map}" if self.config.genetic_map
            else f"{self.config.recombination_rate:g} cM/Mb",
            self.config.ne, float(prob[prob < 1].sum()), theta, flip,
        )  # fmt: skip

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Load a saved mosaic (its row count is only known from the saved tensor)."""
        if "haplotypes" in state_dict:
            self.haplotypes = torch.empty_like(
                state_dict["haplotypes"], device=self.haplotypes.device
            )
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def training_state(self) -> dict:
        return {}

    def load_training_state(self, state: dict) -> None:
        pass

    def train_epoch(self, generator: torch.Generator) -> torch.Tensor:
        raise RuntimeError("the 'mosaic' baseline has no epochs to train")

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``n`` mosaics; int8 tensor (n, n_variants)."""
        if self.haplotypes.shape[0] == 0:
            raise RuntimeError("the mosaic baseline holds no haplotypes: it was never fitted")
        return draw_mosaic(self.haplotypes, self.switch_prob, float(self.flip_prob), n, generator)
