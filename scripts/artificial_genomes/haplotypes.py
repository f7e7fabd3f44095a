"""The haplotype matrix and its labels: the one format every step after ``encode`` reads.

Layout (DESIGN.md): rows are haplotypes, columns are biallelic SNPs in genomic order, ``1`` is the
ALT allele, ``0`` REF, dtype int8. Haplotype ``2 * i`` is the allele left of ``|`` of sample ``i``,
``2 * i + 1`` the one right of it. scikit-allel's ``HaplotypeArray`` is the transpose of this
matrix (variants on the first axis); :meth:`HaplotypeSet.allel` gives that view.
"""

from dataclasses import dataclass, field, fields

import numpy as np

from .fileio import atomic_path

VARIANT_FIELDS = ("chrom", "pos", "id", "ref", "alt")
SAMPLE_FIELDS = ("samples", "population", "super_population", "split")


@dataclass
class HaplotypeSet:
    """Phased haplotypes of a cohort with their sites and sample labels.

    Attributes
    ----------
    haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
        0 = REF, 1 = ALT. ``n_haplotypes == 2 * n_samples``.
    chrom, id, ref, alt : numpy.ndarray, str, shape (n_variants,)
    pos : numpy.ndarray, int64, shape (n_variants,)
        1-based positions, sorted within each contig.
    samples, population, super_population : numpy.ndarray, str, shape (n_samples,)
        Sample ids and their labels (empty string where unknown).
    split : numpy.ndarray, str, shape (n_samples,)
        ``"train"`` or ``"test"`` per individual (empty before the split).
    meta : dict
        Free-form provenance (dataset name, region, filters), stored as strings.
    """

    haplotypes: np.ndarray
    chrom: np.ndarray
    pos: np.ndarray
    id: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    samples: np.ndarray
    population: np.ndarray
    super_population: np.ndarray
    split: np.ndarray
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.haplotypes = np.ascontiguousarray(self.haplotypes, dtype=np.int8)
        self.pos = np.asarray(self.pos, dtype=np.int64)
        for name in ("chrom", "id", "ref", "alt", "samples", "population", "super_population", "split"):
            setattr(self, name, np.asarray(getattr(self, name)).astype(str))
        n_hap, n_var = self.haplotypes.shape
        for name in VARIANT_FIELDS:
            if len(getattr(self, name)) != n_var:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries for {n_var} variants")
        for name in SAMPLE_FIELDS:
            if len(getattr(self, name)) * 2 != n_hap:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries for {n_hap} haplotypes")

    @property
    def n_variants(self) -> int:
        return self.haplotypes.shape[1]

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    @property
    def haplotype_population(self) -> np.ndarray:
        """Population label per haplotype, shape (n_haplotypes,)."""
        return np.repeat(self.population, 2)

    @property
    def haplotype_super_population(self) -> np.ndarray:
        """Super-population label per haplotype, shape (n_haplotypes,)."""
        return np.repeat(self.super_population, 2)

    @classmethod
    def artificial(cls, haplotypes, sites: "HaplotypeSet", meta: dict | None = None):
        """AGs on the sites of ``sites``, paired into individuals ``AG_000001``, ``AG_000002``...

        Parameters
        ----------
        haplotypes : numpy.ndarray, int8, shape (n_haplotypes, n_variants)
            An even number of 0/1 rows; rows ``2i`` and ``2i + 1`` form individual ``i + 1``.
        sites : HaplotypeSet
            Set whose chrom, pos, id, ref and alt the AGs share.
        meta : dict, optional
            Provenance (model, settings, seed...).

        Returns
        -------
        HaplotypeSet
            With empty population, super-population and split labels.
        """
        n_samples = len(haplotypes) // 2
        empty = np.full(n_samples, "", dtype=str)
        return cls(
            haplotypes=haplotypes,
            **{name: getattr(sites, name) for name in VARIANT_FIELDS},
            samples=np.array([f"AG_{i:06d}" for i in range(1, n_samples + 1)]),
            population=empty,
            super_population=empty,
            split=empty,
            meta=dict(meta or {}),
        )

    def allel(self):
        """The matrix as a scikit-allel ``HaplotypeArray`` (n_variants, n_haplotypes)."""
        import allel

        return allel.HaplotypeArray(self.haplotypes.T)

    def select_samples(self, mask) -> "HaplotypeSet":
        """A new set with the samples where ``mask`` (shape (n_samples,)) is true."""
        mask = np.asarray(mask, dtype=bool)
        hap_mask = np.repeat(mask, 2)
        kwargs = {f.name: getattr(self, f.name) for f in fields(self)}
        kwargs["haplotypes"] = self.haplotypes[hap_mask]
        for name in SAMPLE_FIELDS:
            kwargs[name] = getattr(self, name)[mask]
        kwargs["meta"] = dict(self.meta)
        return HaplotypeSet(**kwargs)

    def train(self) -> "HaplotypeSet":
        """The training individuals."""
        return self.select_samples(self.split == "train")

    def test(self) -> "HaplotypeSet":
        """The held-out individuals (never shown to a model)."""
        return self.select_samples(self.split == "test")

    def save(self, path):
        """Write a compressed ``.npz`` (atomically: whole or not at all)."""
        arrays = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "meta"}
        arrays["meta_keys"] = np.array(list(self.meta.keys()), dtype=str)
        arrays["meta_values"] = np.array([str(v) for v in self.meta.values()], dtype=str)
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path) -> "HaplotypeSet":
        """Read a set written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            kwargs = {f.name: data[f.name] for f in fields(cls) if f.name != "meta"}
            kwargs["meta"] = dict(zip(data["meta_keys"].tolist(), data["meta_values"].tolist()))
        return cls(**kwargs)
