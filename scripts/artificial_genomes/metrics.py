"""Realism and privacy metrics of artificial genomes (AGs) against real haplotypes.

Every function here is pure: it takes int8 haplotype matrices of shape (n_haplotypes, n_variants)
(0 = REF, 1 = ALT, rows = haplotypes, the layout of :class:`~artificial_genomes.haplotypes.HaplotypeSet`)
and returns numbers or arrays, never touching files. Distances between haplotypes are Hamming
distances (number of sites that differ), computed with float32 matrix products in row chunks, so that
no Python loop ever runs over pairs of haplotypes.

Conventions that matter when reading the numbers:

- A monomorphic site (one allele in every haplotype of a set) has no variance, so its r^2 with any
  other site is undefined. It is set to 0 here (no variation, no association), and the LD summaries
  use only pairs of sites that are polymorphic in the real training haplotypes, so real LD is never
  diluted by such zeros. Nothing here ever returns NaN.
- Spectra of different sets are compared at one haplotype count: each is projected to ``n``
  haplotypes drawn without replacement (hypergeometric projection), so that 5000 AGs and 1000
  test haplotypes are judged on the same frequency grid.
- Nearest-neighbour adversarial accuracy follows Yale et al. 2020 with a strict ``>``: a tie between
  the distance to the nearest haplotype of the other set and to the nearest other haplotype of the
  same set counts as "not separable". This is the convention that reproduces the values measured on
  the AGs published with Yelmen et al. 2021 (GAN AATS 0.600, RBM 0.516).
"""

from dataclasses import dataclass

import numpy as np
import ot
from scipy.special import gammaln
from scipy.stats import rankdata, wasserstein_distance

# Rows of the left matrix per Hamming-distance chunk: 2048 x 5000 float32 is 40 MB.
HAMMING_CHUNK = 2048
# Up to this many haplotypes or sites the PCA uses an exact SVD (under a second), beyond it a
# randomised one.
EXACT_SVD_MAX = 1500


# --------------------------------------------------------------------------------------------------
# Allele frequencies
# --------------------------------------------------------------------------------------------------


def allele_frequency(haplotypes) -> np.ndarray:
    """ALT allele frequency of each site.

    Parameters
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
        0/1 haplotype matrix.

    Returns
    -------
    numpy.ndarray, float64, shape (n_variants,)
        Fraction of haplotypes carrying the ALT allele.
    """
    haplotypes = _as_matrix(haplotypes)
    return haplotypes.sum(axis=0, dtype=np.int64) / haplotypes.shape[0]


def pearson_r(x, y) -> float:
    """Pearson correlation of two vectors, 0.0 where either has no variance (never NaN).

    Parameters
    ----------
    x, y : numpy.ndarray, float, shape (n,)

    Returns
    -------
    float
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"vectors of different shapes {x.shape} and {y.shape}")
    if x.size < 2:
        return 0.0
    dx = x - x.mean()
    dy = y - y.mean()
    denominator = np.sqrt((dx * dx).sum() * (dy * dy).sum())
    if denominator == 0:
        return 0.0
    return float(np.clip((dx * dy).sum() / denominator, -1.0, 1.0))


def allele_frequency_agreement(real, synthetic) -> dict:
    """Pearson r and root-mean-square error between the allele frequencies of two sets.

    Parameters
    ----------
    real, synthetic : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
        Two haplotype matrices on the same sites (row counts may differ).

    Returns
    -------
    dict
        ``{"r": float, "rmse": float}``; r is 0.0 where either set's frequencies are all equal.
    """
    real_af = allele_frequency(real)
    synthetic_af = allele_frequency(synthetic)
    _check_same_sites(real_af, synthetic_af)
    rmse = float(np.sqrt(np.mean((real_af - synthetic_af) ** 2)))
    return {"r": pearson_r(real_af, synthetic_af), "rmse": rmse}


# --------------------------------------------------------------------------------------------------
# Site frequency spectrum
# --------------------------------------------------------------------------------------------------


def site_frequency_spectrum(haplotypes, n: int | None = None, folded: bool = True) -> np.ndarray:
    """Number of sites per allele count, in a sample of ``n`` haplotypes.

    With ``n`` below the number of haplotypes the spectrum is projected: each site with ``k`` ALT
    alleles among ``N`` haplotypes contributes its hypergeometric probability of showing ``j``
    ALT alleles among ``n`` haplotypes drawn without replacement, for every ``j``. The result is
    the expected spectrum of a random subsample of size ``n``, without the noise of drawing one,
    so that sets of different sizes are compared on one grid.

    Parameters
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
    n : int, optional
        Haplotype count to project to (``2 <= n <= n_haplotypes``); defaults to n_haplotypes
        (the plain spectrum, integer counts).
    folded : bool
        Count minor alleles (class ``m`` holds sites whose rarer allele appears ``m`` times,
        ``0 <= m <= n // 2``), since the ALT allele is not necessarily the derived one; otherwise
        count ALT alleles (``0 <= j <= n``).

    Returns
    -------
    numpy.ndarray, float64, shape (n // 2 + 1,) folded or (n + 1,) unfolded
        (Expected) number of sites per class; sums to n_variants. Class 0 holds the sites that
        are monomorphic in the sample.
    """
    haplotypes = _as_matrix(haplotypes)
    total = haplotypes.shape[0]
    n = total if n is None else int(n)
    if not 1 <= n <= total:
        raise ValueError(f"cannot project {total} haplotypes to {n}: need 1 <= n <= {total}")
    counts = haplotypes.sum(axis=0, dtype=np.int64)
    if n == total:
        spectrum = np.bincount(counts, minlength=total + 1).astype(np.float64)
    else:
        k, multiplicity = np.unique(counts, return_counts=True)
        spectrum = np.zeros(n + 1)
        block = max(1, 2**22 // (n + 1))  # distinct counts per step: at most ~32 MB of floats
        for start in range(0, k.size, block):
            part = slice(start, start + block)
            spectrum += multiplicity[part].astype(np.float64) @ _hypergeometric_pmf(
                total, k[part], n
            )
    if not folded:
        return spectrum
    half = n // 2
    minor = spectrum[: half + 1].copy()
    minor[: n - half] += spectrum[n:half:-1]  # class m also holds the sites with n - m ALT
    return minor


def frequency_class_edges(n: int) -> np.ndarray:
    """Edges of doubling minor-allele-count classes: 0, 1, 2, 3-4, 5-8, 9-16, ... up to n // 2.

    Parameters
    ----------
    n : int
        Haplotype count of the (projected) folded spectrum.

    Returns
    -------
    numpy.ndarray, int64, shape (n_classes + 1,)
        Class ``c`` holds minor allele counts ``edges[c] <= m < edges[c + 1]``; the last edge is
        ``n // 2 + 1``.
    """
    top = n // 2 + 1
    edges = [0, 1, 2]
    while edges[-1] < top:
        edges.append(2 * edges[-1] - 1)
    edges = np.array(edges, dtype=np.int64)
    edges = edges[edges < top]
    return np.append(edges, top)


def binned_spectrum(sfs, edges) -> np.ndarray:
    """Sum of a folded spectrum over the classes given by ``edges``.

    Parameters
    ----------
    sfs : numpy.ndarray, float, shape (n // 2 + 1,)
    edges : numpy.ndarray, int, shape (n_classes + 1,)
        From :func:`frequency_class_edges`.

    Returns
    -------
    numpy.ndarray, float64, shape (n_classes,)
    """
    cumulative = np.concatenate([[0.0], np.cumsum(np.asarray(sfs, dtype=np.float64))])
    return cumulative[edges[1:]] - cumulative[edges[:-1]]


def sfs_distance(sfs_a, sfs_b, n: int) -> float:
    """Total variation distance between two folded spectra of ``n`` haplotypes, on doubling classes.

    The share of sites that would have to move to another frequency class
    (:func:`frequency_class_edges`) to turn one spectrum into the other: 0 for equal spectra, 1
    when they share no class. The classes double in width so that the many rare classes are not
    drowned by the noise of the sparsely filled common ones.

    Parameters
    ----------
    sfs_a, sfs_b : numpy.ndarray, float, shape (n // 2 + 1,)
        Folded spectra over the same sites (each sums to n_variants).
    n : int

    Returns
    -------
    float
        In [0, 1]; 0.0 when there are no sites.
    """
    edges = frequency_class_edges(n)
    a, b = binned_spectrum(sfs_a, edges), binned_spectrum(sfs_b, edges)
    total = max(a.sum(), b.sum())
    return float(0.5 * np.abs(a - b).sum() / total) if total > 0 else 0.0


def rare_variant_counts(sfs, n: int, rare_frequency: float = 0.01) -> dict:
    """Sites by minor allele count in a folded spectrum of ``n`` haplotypes.

    Parameters
    ----------
    sfs : numpy.ndarray, float, shape (n // 2 + 1,)
    n : int
    rare_frequency : float
        A site is rare when its minor allele frequency ``m / n`` is below this (and ``m >= 1``).

    Returns
    -------
    dict
        ``monomorphic`` (m = 0), ``singletons`` (m = 1), ``rare`` (1 <= m < rare_frequency * n,
        singletons included; 0 when n is too small for any such class), ``common`` (the other
        polymorphic sites) and ``segregating`` (m >= 1), as floats (expected counts).
    """
    sfs = np.asarray(sfs, dtype=np.float64)
    m = np.arange(sfs.size)
    rare = (m >= 1) & (m < rare_frequency * n)
    return {
        "monomorphic": float(sfs[0]),
        "singletons": float(sfs[1]) if sfs.size > 1 else 0.0,
        "rare": float(sfs[rare].sum()),
        "common": float(sfs[(m >= 1) & ~rare].sum()),
        "segregating": float(sfs[1:].sum()),
    }


# --------------------------------------------------------------------------------------------------
# PCA
# --------------------------------------------------------------------------------------------------


@dataclass
class PCAFit:
    """Principal axes of a set of haplotypes, for projecting other sets into them.

    Attributes
    ----------
    mean : numpy.ndarray, float32, shape (n_variants,)
        ALT frequencies of the haplotypes the axes were fitted on (the centring).
    components : numpy.ndarray, float32, shape (n_components, n_variants)
        Unit principal axes, largest variance first.
    explained_variance_ratio : numpy.ndarray, float64, shape (n_components,)
        Share of the total variance of the fitted haplotypes along each axis.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray

    def transform(self, haplotypes) -> np.ndarray:
        """Coordinates of haplotypes on the principal axes.

        Parameters
        ----------
        haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)

        Returns
        -------
        numpy.ndarray, float32, shape (n_haplotypes, n_components)
        """
        haplotypes = _as_matrix(haplotypes)
        _check_same_sites(self.mean, haplotypes[0])
        centred = haplotypes.astype(np.float32) - self.mean
        return centred @ self.components.T


def fit_pca(haplotypes, n_components: int = 10, seed: int = 0, n_iter: int = 8) -> PCAFit:
    """Principal axes of haplotypes centred by their allele frequencies (randomised SVD).

    Sites are centred but not scaled, so monomorphic sites are columns of zeros and add nothing
    (no NaN). Where both dimensions exceed ``EXACT_SVD_MAX`` the SVD is the randomised range
    finder of Halko et al. (2011) with ``n_iter`` power iterations and 20 extra columns, which
    agrees with an exact SVD on the leading, well separated axes and takes about a second on 2,500
    haplotypes x 7,600 sites, where the exact one takes ten; trailing axes with nearly equal
    variances may differ (they are ill-defined in either case). Axis signs are fixed
    (largest loading positive) so that results do not depend on the random start.

    Parameters
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
        The real (training) haplotypes that define the axes.
    n_components : int
        Number of axes; capped at min(n_haplotypes, n_variants).
    seed : int
        Seed of the random start.
    n_iter : int
        Power iterations.

    Returns
    -------
    PCAFit
    """
    haplotypes = _as_matrix(haplotypes)
    mean = haplotypes.mean(axis=0, dtype=np.float64).astype(np.float32)
    centred = haplotypes.astype(np.float32) - mean
    n_components = max(1, min(n_components, *centred.shape))
    total_variance = float(np.square(centred, dtype=np.float64).sum())
    if min(centred.shape) <= EXACT_SVD_MAX:
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    else:
        rank = min(n_components + 20, *centred.shape)
        rng = np.random.default_rng(seed)
        basis = centred @ rng.standard_normal((centred.shape[1], rank)).astype(np.float32)
        basis, _ = np.linalg.qr(basis)
        for _ in range(n_iter):
            basis, _ = np.linalg.qr(centred.T @ basis)
            basis, _ = np.linalg.qr(centred @ basis)
        _, singular, vt = np.linalg.svd(basis.T @ centred, full_matrices=False)
    components = vt[:n_components]
    signs = np.sign(components[np.arange(n_components), np.abs(components).argmax(axis=1)])
    components = components * np.where(signs == 0, 1, signs)[:, None]
    if total_variance > 0:
        ratio = singular[:n_components].astype(np.float64) ** 2 / total_variance
    else:
        ratio = np.zeros(n_components)
    return PCAFit(
        mean=mean, components=components.astype(np.float32), explained_variance_ratio=ratio
    )


def wasserstein_per_component(a, b) -> np.ndarray:
    """Wasserstein-1 distance between two point clouds along each coordinate.

    Parameters
    ----------
    a : numpy.ndarray, float, shape (n_a, n_components)
    b : numpy.ndarray, float, shape (n_b, n_components)

    Returns
    -------
    numpy.ndarray, float64, shape (n_components,)
        Distance between the two empirical distributions of each column, in the columns' units.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"point clouds of incompatible shapes {a.shape} and {b.shape}")
    return np.array([wasserstein_distance(a[:, k], b[:, k]) for k in range(a.shape[1])])


def wasserstein_2d(a, b, n: int = 1500, seed: int = 0) -> float:
    """Wasserstein-1 distance between two 2-D point clouds, exact on random subsets.

    The optimal transport cost (Euclidean ground distance, network simplex of POT's ``ot.emd2``)
    between ``n`` points drawn without replacement from each cloud. Unlike distances per axis, it
    sees a wrong joint shape (clusters in the wrong places of the plane). Two samples of the same
    distribution are at a distance that shrinks slowly with ``n``, so compare values computed
    with the same ``n`` only.

    Parameters
    ----------
    a : numpy.ndarray, float, shape (n_a, 2)
    b : numpy.ndarray, float, shape (n_b, 2)
    n : int
        Points drawn from each cloud (all points of a smaller cloud).
    seed : int

    Returns
    -------
    float
        In the units of the coordinates.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) == 0 or len(b) == 0:
        raise ValueError(f"point clouds of incompatible shapes {a.shape} and {b.shape}")
    rng = np.random.default_rng(seed)
    a = a[rng.choice(len(a), size=min(n, len(a)), replace=False)]
    b = b[rng.choice(len(b), size=min(n, len(b)), replace=False)]
    cost = ot.dist(a, b, metric="euclidean")
    weights_a = np.full(len(a), 1.0 / len(a))
    weights_b = np.full(len(b), 1.0 / len(b))
    return float(ot.emd2(weights_a, weights_b, cost, numItermax=10**7))


# --------------------------------------------------------------------------------------------------
# Linkage disequilibrium
# --------------------------------------------------------------------------------------------------


def standardise(haplotypes) -> tuple[np.ndarray, np.ndarray]:
    """Haplotype matrix with each site centred and scaled to unit variance.

    Parameters
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)

    Returns
    -------
    z : numpy.ndarray, float32, shape (n_haplotypes, n_variants)
        ``(x - p) / sqrt(p (1 - p))``; a monomorphic site is a column of zeros, so that its
        correlation with any site comes out as 0 rather than NaN.
    polymorphic : numpy.ndarray, bool, shape (n_variants,)
        Sites with both alleles present.
    """
    haplotypes = _as_matrix(haplotypes)
    p = haplotypes.mean(axis=0, dtype=np.float64)
    sd = np.sqrt(p * (1 - p))
    polymorphic = sd > 0
    scale = np.where(polymorphic, 1.0 / np.where(polymorphic, sd, 1.0), 0.0)
    z = (haplotypes.astype(np.float32) - p.astype(np.float32)) * scale.astype(np.float32)
    return z, polymorphic


def ld_r2_matrix(haplotypes) -> np.ndarray:
    """r^2 between every pair of sites (for small windows and small panels).

    Parameters
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)

    Returns
    -------
    numpy.ndarray, float32, shape (n_variants, n_variants)
        Squared Pearson correlation of the allele indicators; 0 in every row and column of a
        monomorphic site (its diagonal too), 1 on the diagonal otherwise.
    """
    z, _ = standardise(haplotypes)
    r = (z.T @ z) / z.shape[0]
    return np.clip(r * r, 0.0, 1.0)


def ld_r2_pairs(haplotypes, i, j, block: int = 256) -> np.ndarray:
    """r^2 of a list of site pairs, by blocked matrix products (no loop over pairs).

    Pairs are grouped by their first site in blocks of ``block`` sites; each block needs one
    product of its columns with the distinct second sites of its pairs, which is cheap both for a
    band of nearby pairs and for all pairs among a subset of sites.

    Parameters
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
    i, j : numpy.ndarray, int, shape (n_pairs,)
        Site indices of each pair.
    block : int
        First sites per block.

    Returns
    -------
    numpy.ndarray, float32, shape (n_pairs,)
        r^2 of each pair; 0 where either site is monomorphic in ``haplotypes``.
    """
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    if i.shape != j.shape:
        raise ValueError(f"pair index arrays of different shapes {i.shape} and {j.shape}")
    out = np.zeros(i.shape, dtype=np.float32)
    if i.size == 0:
        return out
    used = np.unique(np.concatenate([i, j]))  # standardise only the sites of some pair
    z, _ = standardise(_as_matrix(haplotypes)[:, used])
    i, j = np.searchsorted(used, i), np.searchsorted(used, j)
    order = np.argsort(i, kind="stable")
    first_sites = np.unique(i)
    for start in range(0, first_sites.size, block):
        sites = first_sites[start : start + block]
        lo = np.searchsorted(i[order], sites[0], side="left")
        hi = np.searchsorted(i[order], sites[-1], side="right")
        idx = order[lo:hi]
        seconds, j_local = np.unique(j[idx], return_inverse=True)
        i_local = np.searchsorted(sites, i[idx])
        r = (z[:, sites].T @ z[:, seconds]) / z.shape[0]
        out[idx] = r[i_local, j_local]
    return np.clip(out * out, 0.0, 1.0)


def band_pairs(chrom, width: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Each site paired with the next ``width`` sites on the same chromosome.

    Parameters
    ----------
    chrom : numpy.ndarray, str, shape (n_sites,)
        Contig of each site, sites in genomic order.
    width : int
        Number of following sites paired with each site.

    Returns
    -------
    i, j : numpy.ndarray, int64, shape (n_pairs,)
        Pair indices with ``i < j``.
    """
    chrom = np.asarray(chrom)
    n = chrom.size
    offsets = np.arange(1, max(1, width) + 1)
    i = np.repeat(np.arange(n), offsets.size)
    j = i + np.tile(offsets, n)
    keep = j < n
    i, j = i[keep], j[keep]
    keep = chrom[i] == chrom[j]
    return i[keep], j[keep]


def subset_pairs(chrom, n_sites: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All same-chromosome pairs among a random subset of sites (the long-range pairs).

    Parameters
    ----------
    chrom : numpy.ndarray, str, shape (n_sites_total,)
    n_sites : int
        Size of the random subset (all sites if there are fewer).
    seed : int

    Returns
    -------
    i, j : numpy.ndarray, int64, shape (n_pairs,)
        Pair indices with ``i < j``.
    """
    chrom = np.asarray(chrom)
    n = chrom.size
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(n, size=min(n, n_sites), replace=False))
    a, b = np.triu_indices(chosen.size, k=1)
    i, j = chosen[a], chosen[b]
    keep = chrom[i] == chrom[j]
    return i[keep], j[keep]


def log_distance_bins(distance, n_bins: int = 20) -> np.ndarray:
    """Log-spaced bin edges covering a set of physical distances.

    Parameters
    ----------
    distance : numpy.ndarray, int, shape (n_pairs,)
        Distances in base pairs.
    n_bins : int

    Returns
    -------
    numpy.ndarray, float64, shape (n_bins + 1,)
        Edges from just below the smallest positive distance to just above the largest.
    """
    distance = np.asarray(distance, dtype=np.float64)
    positive = distance[distance > 0]
    if positive.size == 0:
        return np.array([0.5, 1.5])
    low, high = max(positive.min(), 1.0), positive.max()
    return np.geomspace(low * 0.999, max(high, low) * 1.001, n_bins + 1)


def ld_decay(r2, distance, edges) -> tuple[np.ndarray, np.ndarray]:
    """Mean r^2 of site pairs by physical-distance bin.

    Parameters
    ----------
    r2 : numpy.ndarray, float, shape (n_pairs,)
    distance : numpy.ndarray, int, shape (n_pairs,)
        Distances in base pairs.
    edges : numpy.ndarray, float, shape (n_bins + 1,)
        Bin edges; bin k holds ``edges[k] <= d < edges[k + 1]``.

    Returns
    -------
    mean_r2 : numpy.ndarray, float64, shape (n_bins,)
        0 in a bin without pairs (check ``counts``).
    counts : numpy.ndarray, int64, shape (n_bins,)
    """
    r2 = np.asarray(r2, dtype=np.float64)
    which = np.digitize(np.asarray(distance, dtype=np.float64), edges) - 1
    inside = (which >= 0) & (which < len(edges) - 1)
    counts = np.bincount(which[inside], minlength=len(edges) - 1)
    sums = np.bincount(which[inside], weights=r2[inside], minlength=len(edges) - 1)
    mean = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    return mean, counts


def random_triplets(
    chrom, n_triplets: int = 10000, window: int | None = 50, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random triplets of distinct sites on one chromosome, nearby or anywhere.

    Parameters
    ----------
    chrom : numpy.ndarray, str, shape (n_sites,)
        Contig of each site, sites in genomic order.
    n_triplets : int
        Triplets drawn (with replacement). With a ``window``, triplets off a contig are dropped,
        so fewer may come back.
    window : int or None
        The three sites lie within ``window + 1`` consecutive sites. ``None``: three distinct
        sites drawn uniformly from one contig, the contig chosen with probability proportional
        to its number of triplets (every same-contig triplet equally likely); contigs with fewer
        than 3 sites are never chosen.
    seed : int

    Returns
    -------
    i, j, k : numpy.ndarray, int64, shape (n_kept,)
        Site indices with ``i < j < k``.
    """
    chrom = np.asarray(chrom)
    n = chrom.size
    empty = np.zeros(0, dtype=np.int64)
    if n < 3:
        return empty, empty, empty
    rng = np.random.default_rng(seed)
    if window is None:
        return _uniform_triplets(chrom, n_triplets, rng)
    window = max(2, min(window, n - 1))
    i = rng.integers(0, n - 2, size=n_triplets)
    span = np.minimum(window, n - 1 - i)
    a = rng.integers(1, span + 1)
    b = rng.integers(1, span + 1)
    while np.any(a == b):  # two distinct offsets per triplet
        same = a == b
        b[same] = rng.integers(1, span[same] + 1)
    j, k = i + np.minimum(a, b), i + np.maximum(a, b)
    keep = (chrom[i] == chrom[j]) & (chrom[i] == chrom[k])
    return i[keep], j[keep], k[keep]


def gap_triplets(
    chrom, gap: int, n_max: int | None = None, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triplets of sites ``(i, i + gap, i + 2 gap)`` on one chromosome (Yelmen et al. 2021).

    Parameters
    ----------
    chrom : numpy.ndarray, str, shape (n_sites,)
        Contig of each site, sites in genomic order.
    gap : int
        Distance between consecutive sites of a triplet, in sites (1 = adjacent SNPs).
    n_max : int, optional
        Keep a random subset of at most this many triplets (all of them by default).
    seed : int
        Seed of the subset.

    Returns
    -------
    i, j, k : numpy.ndarray, int64, shape (n_triplets,)
        ``j = i + gap``, ``k = i + 2 gap``, in increasing order of ``i``.
    """
    chrom = np.asarray(chrom)
    if gap < 1:
        raise ValueError(f"gap must be at least 1, got {gap}")
    i = np.arange(max(0, chrom.size - 2 * gap), dtype=np.int64)
    i = i[(chrom[i] == chrom[i + gap]) & (chrom[i] == chrom[i + 2 * gap])]
    if n_max is not None and i.size > n_max:
        i = np.sort(np.random.default_rng(seed).choice(i, size=n_max, replace=False))
    return i, i + gap, i + 2 * gap


def three_point_correlation(haplotypes, i, j, k, chunk: int = 4096) -> np.ndarray:
    """Connected three-point correlation of allele indicators at site triplets.

    ``C = E[x_i x_j x_k] - E[x_i x_j] p_k - E[x_i x_k] p_j - E[x_j x_k] p_i + 2 p_i p_j p_k``,
    the third cumulant: the part of the joint distribution of three sites that pairwise LD does
    not explain (as compared between real and artificial genomes by Yelmen et al. 2021). Zero when
    any site is monomorphic; no division, so never NaN.

    Parameters
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
    i, j, k : numpy.ndarray, int, shape (n_triplets,)
    chunk : int
        Triplets per vectorised step.

    Returns
    -------
    numpy.ndarray, float64, shape (n_triplets,)
    """
    haplotypes = _as_matrix(haplotypes)
    i, j, k = (np.asarray(x, dtype=np.int64) for x in (i, j, k))
    p = allele_frequency(haplotypes)
    out = np.zeros(i.size, dtype=np.float64)
    n = haplotypes.shape[0]
    by_site = np.ascontiguousarray(haplotypes.T).view(np.uint8)  # rows = sites: fast gathers
    for start in range(0, i.size, chunk):
        part = slice(start, start + chunk)
        xi, xj, xk = (by_site[idx[part]] for idx in (i, j, k))
        pi, pj, pk = p[i[part]], p[j[part]], p[k[part]]
        xij = xi & xj
        eij = np.count_nonzero(xij, axis=1) / n
        eik = np.count_nonzero(xi & xk, axis=1) / n
        ejk = np.count_nonzero(xj & xk, axis=1) / n
        eijk = np.count_nonzero(xij & xk, axis=1) / n
        out[part] = eijk - eij * pk - eik * pj - ejk * pi + 2 * pi * pj * pk
    return out


# --------------------------------------------------------------------------------------------------
# Hamming distances and nearest neighbours
# --------------------------------------------------------------------------------------------------


def hamming_distances(a, b=None, chunk: int = HAMMING_CHUNK) -> np.ndarray:
    """Hamming distances between every row of ``a`` and every row of ``b``.

    Uses ``d(x, y) = |x| + |y| - 2 x.y``, one float32 matrix product per chunk of rows (exact:
    every partial sum is an integer below 2^24).

    Parameters
    ----------
    a : numpy.ndarray, int8, shape (n_a, n_variants)
    b : numpy.ndarray, int8, shape (n_b, n_variants), optional
        Defaults to ``a``.
    chunk : int
        Rows of ``a`` per matrix product.

    Returns
    -------
    numpy.ndarray, int32, shape (n_a, n_b)
    """
    fa, sa = _float_rows(a)
    fb, sb = (fa, sa) if b is None else _float_rows(b)
    _check_same_sites(fa[0], fb[0])
    out = np.empty((fa.shape[0], fb.shape[0]), dtype=np.int32)
    for start in range(0, fa.shape[0], chunk):
        stop = min(start + chunk, fa.shape[0])
        out[start:stop] = _distance_chunk(fa, sa, fb, sb, start, stop)
    return out


def nearest_neighbour_distances(a, b=None, chunk: int = HAMMING_CHUNK):
    """Hamming distance from each row of one set to its nearest row in another (or the same) set.

    Parameters
    ----------
    a : numpy.ndarray, int8, shape (n_a, n_variants)
    b : numpy.ndarray, int8, shape (n_b, n_variants), optional
        Without it, each row of ``a`` is compared with the *other* rows of ``a`` (itself excluded
        by index; an identical copy elsewhere in ``a`` still counts, at distance 0).
    chunk : int
        Rows of ``a`` per matrix product.

    Returns
    -------
    numpy.ndarray, int32, shape (n_a,)
        Nearest distances of the rows of ``a``.
    """
    return _nearest(a, b, chunk)[0]


def adversarial_accuracy(real, synthetic, chunk: int = HAMMING_CHUNK) -> dict:
    """Nearest-neighbour adversarial accuracy (Yale et al. 2020) with Hamming distance.

    ``AA_truth`` is the share of real haplotypes whose nearest synthetic haplotype is strictly
    farther than their nearest other real haplotype; ``AA_syn`` the same for synthetic
    haplotypes; ``AATS`` their mean. 0.5 is ideal: above it the two sets are separable (the AGs
    are unrealistic), below it the AGs sit closer to the real haplotypes than these sit to each
    other (they copy them).

    Parameters
    ----------
    real, synthetic : numpy.ndarray, int8, shape (n, n_variants)
        Two sets of EQUAL size (subsample the larger one first, see
        :func:`adversarial_accuracy_subsampled`).
    chunk : int
        Rows per matrix product.

    Returns
    -------
    dict
        ``{"aa_truth", "aa_syn", "aats"}`` as floats.
    """
    real = _as_matrix(real)
    synthetic = _as_matrix(synthetic)
    if real.shape[0] != synthetic.shape[0]:
        raise ValueError(
            f"adversarial accuracy needs sets of equal size, got {real.shape[0]} real and "
            f"{synthetic.shape[0]} synthetic haplotypes; subsample the larger one"
        )
    if real.shape[0] < 2:
        raise ValueError("adversarial accuracy needs at least 2 haplotypes per set")
    d_ts, d_st = _nearest(real, synthetic, chunk)
    d_tt = _nearest(real, None, chunk)[0]
    d_ss = _nearest(synthetic, None, chunk)[0]
    aa_truth = float(np.mean(d_ts > d_tt))
    aa_syn = float(np.mean(d_st > d_ss))
    return {"aa_truth": aa_truth, "aa_syn": aa_syn, "aats": (aa_truth + aa_syn) / 2}


def adversarial_accuracy_from_distances(real_synthetic, real_real, synthetic_synthetic) -> dict:
    """Adversarial accuracy from precomputed distance matrices (see :func:`adversarial_accuracy`).

    Lets a caller that already holds the distance matrices (to reuse them for several metrics)
    get exactly the numbers :func:`adversarial_accuracy` would compute.

    Parameters
    ----------
    real_synthetic : numpy.ndarray, int, shape (n, n)
        ``d(real t, synthetic s)``.
    real_real, synthetic_synthetic : numpy.ndarray, int, shape (n, n)
        Distances within each set; their diagonals are ignored.

    Returns
    -------
    dict
        ``{"aa_truth", "aa_syn", "aats"}`` as floats.
    """
    real_synthetic = np.asarray(real_synthetic)
    n = real_synthetic.shape[0]
    shapes = {np.shape(real_synthetic), np.shape(real_real), np.shape(synthetic_synthetic)}
    if shapes != {(n, n)} or n < 2:
        raise ValueError(f"adversarial accuracy needs three equal square matrices, got {shapes}")
    d_ts = real_synthetic.min(axis=1)
    d_st = real_synthetic.min(axis=0)
    d_tt = _off_diagonal_min(real_real)
    d_ss = _off_diagonal_min(synthetic_synthetic)
    aa_truth = float(np.mean(d_ts > d_tt))
    aa_syn = float(np.mean(d_st > d_ss))
    return {"aa_truth": aa_truth, "aa_syn": aa_syn, "aats": (aa_truth + aa_syn) / 2}


def adversarial_accuracy_subsampled(
    real, synthetic, n: int | None = None, seed: int = 0, chunk: int = HAMMING_CHUNK
) -> dict:
    """Adversarial accuracy on random subsets of equal size of two sets.

    Parameters
    ----------
    real, synthetic : numpy.ndarray, int8, shape (n_real, n_variants), (n_synthetic, n_variants)
    n : int, optional
        Haplotypes drawn (without replacement) from each set; defaults to, and is capped at, the
        size of the smaller set.
    seed : int
        Seed of the draws.
    chunk : int

    Returns
    -------
    dict
        ``{"aa_truth", "aa_syn", "aats", "n"}``.
    """
    real = _as_matrix(real)
    synthetic = _as_matrix(synthetic)
    size = min(real.shape[0], synthetic.shape[0]) if n is None else n
    size = min(size, real.shape[0], synthetic.shape[0])
    rng = np.random.default_rng(seed)
    real_rows = np.sort(rng.choice(real.shape[0], size=size, replace=False))
    synthetic_rows = np.sort(rng.choice(synthetic.shape[0], size=size, replace=False))
    result = adversarial_accuracy(real[real_rows], synthetic[synthetic_rows], chunk)
    result["n"] = int(size)
    return result


def exact_copies(synthetic, real, chunk: int = HAMMING_CHUNK) -> int:
    """Number of synthetic haplotypes identical to at least one real haplotype.

    Parameters
    ----------
    synthetic : numpy.ndarray, int8, shape (n_synthetic, n_variants)
    real : numpy.ndarray, int8, shape (n_real, n_variants)

    Returns
    -------
    int
    """
    return int(np.count_nonzero(nearest_neighbour_distances(synthetic, real, chunk) == 0))


def pairwise_distance_sample(a, b=None, n: int = 2000, seed: int = 0) -> np.ndarray:
    """Hamming distances of pairs of haplotypes, on random subsets of at most ``n`` rows.

    Parameters
    ----------
    a : numpy.ndarray, int8, shape (n_a, n_variants)
    b : numpy.ndarray, int8, shape (n_b, n_variants), optional
        Without it, the distances within ``a`` (each unordered pair of distinct rows once);
        with it, all distances between the two subsets.
    n : int
        Rows drawn (without replacement) from each set.
    seed : int

    Returns
    -------
    numpy.ndarray, int32, shape (n_pairs,)
    """
    a = _as_matrix(a)
    rng = np.random.default_rng(seed)
    a = a[np.sort(rng.choice(a.shape[0], size=min(n, a.shape[0]), replace=False))]
    if b is None:
        d = hamming_distances(a)
        return d[np.triu_indices(d.shape[0], k=1)]
    b = _as_matrix(b)
    b = b[np.sort(rng.choice(b.shape[0], size=min(n, b.shape[0]), replace=False))]
    return hamming_distances(a, b).ravel()


# --------------------------------------------------------------------------------------------------
# Population structure
# --------------------------------------------------------------------------------------------------


def hudson_fst(a, b) -> float:
    """Hudson's F_ST between two sets of haplotypes, as a ratio of averages over sites.

    Per site (Hudson et al. 1992, in the form of Bhatia et al. 2013, eq. 10), with ALT
    frequencies ``p1``, ``p2`` in ``n1``, ``n2`` haplotypes::

        N = (p1 - p2)^2 - p1 (1 - p1) / (n1 - 1) - p2 (1 - p2) / (n2 - 1)
        D = p1 (1 - p2) + p2 (1 - p1)

    and ``F_ST = sum(N) / sum(D)``, the estimator scikit-allel's ``hudson_fst`` returns the terms
    of. Fixed differences give 1; two samples of one population give about 0 (slightly below it
    by chance; two identical samples give exactly ``-1 / (n - 1)``, the sample-size correction).

    Parameters
    ----------
    a : numpy.ndarray, int8, shape (n1, n_variants)
    b : numpy.ndarray, int8, shape (n2, n_variants)
        At least 2 haplotypes each.

    Returns
    -------
    float
        0.0 when no site is polymorphic in the two sets together (``sum(D) == 0``).
    """
    a, b = _as_matrix(a), _as_matrix(b)
    _check_same_sites(a[0], b[0])
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError(
            f"F_ST needs at least 2 haplotypes per set, got {a.shape[0]} and {b.shape[0]}"
        )
    p1, p2 = allele_frequency(a), allele_frequency(b)
    n1, n2 = a.shape[0], b.shape[0]
    numerator = (p1 - p2) ** 2 - p1 * (1 - p1) / (n1 - 1) - p2 * (1 - p2) / (n2 - 1)
    denominator = p1 * (1 - p2) + p2 * (1 - p1)
    total = denominator.sum()
    return float(numerator.sum() / total) if total > 0 else 0.0


def nearest_neighbour_labels(distances, labels, k: int = 10) -> np.ndarray:
    """Label of each query by a vote of its ``k`` nearest reference items.

    Each of the ``k`` nearest references votes for its label; a tie between labels goes to the
    one whose voters are nearer (the votes are weighted ``1 + 1e-6 / (1 + rank)``), and ties in
    distance at the k-th place are broken by reference index.

    Parameters
    ----------
    distances : numpy.ndarray, int or float, shape (n_query, n_reference)
        Distance of each query to each reference (e.g. Hamming distances of AGs to training
        haplotypes).
    labels : numpy.ndarray, str, shape (n_reference,)
        Label of each reference.
    k : int
        Voters per query (capped at n_reference).

    Returns
    -------
    numpy.ndarray, str, shape (n_query,)
    """
    distances = np.asarray(distances)
    labels = np.asarray(labels)
    if distances.ndim != 2 or distances.shape[1] != labels.size or labels.size == 0:
        raise ValueError(
            f"distances of shape {distances.shape} do not match {labels.size} reference labels"
        )
    k = max(1, min(k, labels.size))
    if k < labels.size:
        nearest = np.argpartition(distances, k - 1, axis=1)[:, :k]
    else:
        nearest = np.broadcast_to(np.arange(labels.size), (distances.shape[0], k))
    # order the k voters by distance, then reference index
    order = np.lexsort((nearest, np.take_along_axis(distances, nearest, axis=1)), axis=1)
    nearest = np.take_along_axis(nearest, order, axis=1)
    groups, codes = np.unique(labels, return_inverse=True)
    weights = 1.0 + 1e-6 / (1.0 + np.arange(k))
    votes = np.zeros((distances.shape[0], groups.size))
    rows = np.repeat(np.arange(distances.shape[0]), k)
    np.add.at(votes, (rows, codes[nearest].ravel()), np.tile(weights, distances.shape[0]))
    return groups[votes.argmax(axis=1)]


def label_shares(labels, groups) -> np.ndarray:
    """Share of items carrying each of the given labels.

    Parameters
    ----------
    labels : numpy.ndarray, str, shape (n,)
    groups : sequence of str, length n_groups

    Returns
    -------
    numpy.ndarray, float64, shape (n_groups,)
        ``count(label == group) / n``; 0 for every group when ``n == 0``.
    """
    labels = np.asarray(labels)
    counts = np.array([np.count_nonzero(labels == g) for g in groups], dtype=np.float64)
    return counts / labels.size if labels.size else counts


# --------------------------------------------------------------------------------------------------
# Membership inference
# --------------------------------------------------------------------------------------------------


def roc_auc(positive, negative) -> float:
    """Area under the ROC curve of a score, by the Mann-Whitney rank statistic.

    The probability that a random positive scores above a random negative, ties counting one
    half: 1 when every positive scores above every negative, 0.5 when the score does not tell
    them apart.

    Parameters
    ----------
    positive : numpy.ndarray, float, shape (n_positive,)
        Scores of the positives (for membership inference: training haplotypes, the members).
    negative : numpy.ndarray, float, shape (n_negative,)
        Scores of the negatives (test haplotypes, the non-members).

    Returns
    -------
    float
    """
    positive = np.asarray(positive, dtype=np.float64).ravel()
    negative = np.asarray(negative, dtype=np.float64).ravel()
    if positive.size == 0 or negative.size == 0:
        raise ValueError("the AUC needs at least one positive and one negative score")
    ranks = rankdata(np.concatenate([positive, negative]))  # ties get their average rank
    u = ranks[: positive.size].sum() - positive.size * (positive.size + 1) / 2
    return float(u / (positive.size * negative.size))


def roc_curve(positive, negative) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates of "score >= t" over every threshold t.

    Parameters
    ----------
    positive : numpy.ndarray, float, shape (n_positive,)
    negative : numpy.ndarray, float, shape (n_negative,)

    Returns
    -------
    fpr, tpr : numpy.ndarray, float64, shape (n_thresholds + 1,)
        From (0, 0) (threshold above every score) to (1, 1), one point per distinct score in
        decreasing order; the trapezoidal area under it equals :func:`roc_auc`.
    """
    positive = np.asarray(positive, dtype=np.float64).ravel()
    negative = np.asarray(negative, dtype=np.float64).ravel()
    if positive.size == 0 or negative.size == 0:
        raise ValueError("the ROC curve needs at least one positive and one negative score")
    thresholds = np.unique(np.concatenate([positive, negative]))[::-1]
    tp = np.searchsorted(np.sort(-positive), -thresholds, side="right")
    fp = np.searchsorted(np.sort(-negative), -thresholds, side="right")
    tpr = np.concatenate([[0.0], tp / positive.size])
    fpr = np.concatenate([[0.0], fp / negative.size])
    return fpr, tpr


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _as_matrix(haplotypes) -> np.ndarray:
    haplotypes = np.asarray(haplotypes)
    if haplotypes.ndim != 2:
        raise ValueError(
            f"expected a (n_haplotypes, n_variants) matrix, got shape {haplotypes.shape}"
        )
    if haplotypes.shape[0] == 0 or haplotypes.shape[1] == 0:
        raise ValueError(f"empty haplotype matrix of shape {haplotypes.shape}")
    return haplotypes


def _check_same_sites(a, b):
    if np.shape(a)[-1] != np.shape(b)[-1]:
        raise ValueError(
            f"sets on different numbers of sites: {np.shape(a)[-1]} and {np.shape(b)[-1]}"
        )


def _float_rows(haplotypes):
    rows = _as_matrix(haplotypes).astype(np.float32)
    return rows, rows.sum(axis=1)


def _distance_chunk(fa, sa, fb, sb, start, stop):
    product = fa[start:stop] @ fb.T
    product *= -2
    product += sa[start:stop, None]
    product += sb[None, :]
    return np.rint(product).astype(np.int32)


def _off_diagonal_min(d):
    d = np.array(d, dtype=np.int64)
    np.fill_diagonal(d, np.iinfo(np.int64).max)
    return d.min(axis=1)


def _nearest(a, b, chunk):
    """Row minima of d(a, b) and column minima; with ``b`` None, row minima of d(a, a) off-diagonal."""
    fa, sa = _float_rows(a)
    same = b is None
    fb, sb = (fa, sa) if same else _float_rows(b)
    _check_same_sites(fa[0], fb[0])
    row_min = np.empty(fa.shape[0], dtype=np.int32)
    col_min = np.full(fb.shape[0], np.iinfo(np.int32).max, dtype=np.int32)
    big = np.iinfo(np.int32).max
    for start in range(0, fa.shape[0], chunk):
        stop = min(start + chunk, fa.shape[0])
        d = _distance_chunk(fa, sa, fb, sb, start, stop)
        if same:
            rows = np.arange(stop - start)
            d[rows, rows + start] = big
        row_min[start:stop] = d.min(axis=1)
        if not same:
            np.minimum(col_min, d.min(axis=0), out=col_min)
    return row_min, (None if same else col_min)


def _hypergeometric_pmf(total, k, n):
    """P(j ALT among n of ``total`` haplotypes drawn without replacement | k ALT in all).

    Returns float64 of shape (k.size, n + 1), from a table of log-factorials (scipy's
    ``hypergeom.pmf`` gives the same numbers some 50 times slower).
    """
    log_factorial = gammaln(np.arange(total + 2, dtype=np.float64))  # log(x!) = gammaln(x + 1)
    log_factorial = log_factorial[1:]
    j = np.arange(n + 1)[None, :]
    k = np.asarray(k, dtype=np.int64)[:, None]
    valid = (j <= k) & (n - j <= total - k)
    jj = np.where(valid, j, 0)

    def log_choose(a, b):
        return log_factorial[a] - log_factorial[b] - log_factorial[a - b]

    log_p = log_choose(k, jj) + log_choose(total - k, np.where(valid, n - jj, 0))
    log_p -= log_choose(np.int64(total), np.int64(n))
    return np.where(valid, np.exp(log_p), 0.0)


def _uniform_triplets(chrom, n_triplets, rng):
    """Three distinct sites of one contig, uniformly among all same-contig triplets."""
    starts = np.flatnonzero(np.r_[True, chrom[1:] != chrom[:-1]])
    sizes = np.diff(np.r_[starts, chrom.size]).astype(np.float64)
    weights = sizes * (sizes - 1) * (sizes - 2)
    empty = np.zeros(0, dtype=np.int64)
    if weights.sum() == 0:
        return empty, empty, empty
    contig = rng.choice(starts.size, size=n_triplets, p=weights / weights.sum())
    size = sizes[contig].astype(np.int64)
    draws = rng.integers(0, size[:, None], size=(n_triplets, 3))
    while True:  # redraw the triplets with a repeated site
        clash = (
            (draws[:, 0] == draws[:, 1])
            | (draws[:, 0] == draws[:, 2])
            | (draws[:, 1] == draws[:, 2])
        )
        if not clash.any():
            break
        draws[clash] = rng.integers(0, size[clash, None], size=(int(clash.sum()), 3))
    draws = np.sort(draws, axis=1) + starts[contig][:, None]
    return draws[:, 0], draws[:, 1], draws[:, 2]
