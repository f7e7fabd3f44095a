"""Time each evaluation metric on the real LCT data (5008 haplotypes x ~7,600 SNPs).

The AGs are 5000 pseudo-AGs drawn site by site from the training allele frequencies (independent
sites: right frequencies, no LD), which is enough to time the metrics: their cost depends on the
matrix sizes, not on the values (the optimal transport of the PCA clouds is the exception: its
network simplex takes longer on degenerate clouds). The lines before ``--full`` time each metric
on its own; ``run_evaluate`` shares the Hamming-distance matrices between metrics, so its
per-step times (printed after it) are what the workflow pays. Run from the repository root:

    python benchmarks/evaluate_speed.py [--vcf PATH] [--panel PATH] [--n-ag 5000] [--full]

``--full`` also times :func:`artificial_genomes.evaluate.run_evaluate` end to end (figures and
JSON included) in a temporary folder.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from artificial_genomes import metrics
from artificial_genomes.haplotypes import HaplotypeSet

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
DEFAULT_VCF = RESOURCES / "lct_chr2" / "1kg_phase3_chr2_LCT_136.40-136.70Mb.phased.vcf.gz"
DEFAULT_PANEL = RESOURCES / "panel" / "integrated_call_samples_v3.20130502.ALL.panel"


def read_lct(vcf, panel, seed=0) -> HaplotypeSet:
    """Biallelic SNPs of a phased VCF as a HaplotypeSet, split half/half by individual."""
    import allel

    fields = [
        "samples",
        "variants/CHROM",
        "variants/POS",
        "variants/ID",
        "variants/REF",
        "variants/ALT",
        "calldata/GT",
    ]
    data = allel.read_vcf(str(vcf), fields=fields, alt_number=2)
    ref, alt = data["variants/REF"], data["variants/ALT"]
    snp = (
        (np.char.str_len(ref.astype(str)) == 1)
        & (np.char.str_len(alt[:, 0].astype(str)) == 1)
        & (alt[:, 1] == "")
    )
    gt = data["calldata/GT"][snp]  # (n_variants, n_samples, 2)
    haplotypes = gt.reshape(gt.shape[0], -1).T.astype(np.int8)
    samples = data["samples"].astype(str)
    labels = {}
    for line in Path(panel).read_text().splitlines()[1:]:
        parts = line.split("\t")
        labels[parts[0]] = (parts[1], parts[2])
    population = np.array([labels.get(s, ("", ""))[0] for s in samples])
    super_population = np.array([labels.get(s, ("", ""))[1] for s in samples])
    rng = np.random.default_rng(seed)
    split = np.where(rng.permutation(samples.size) % 2 == 0, "train", "test")
    return HaplotypeSet(
        haplotypes=haplotypes,
        chrom=data["variants/CHROM"][snp],
        pos=data["variants/POS"][snp],
        id=data["variants/ID"][snp],
        ref=ref[snp],
        alt=alt[snp, 0],
        samples=samples,
        population=population,
        super_population=super_population,
        split=split,
    )


def pseudo_ags(real: HaplotypeSet, n: int, seed=1) -> HaplotypeSet:
    """Independent-sites draws from the training allele frequencies."""
    af = metrics.allele_frequency(real.train().haplotypes)
    rng = np.random.default_rng(seed)
    haplotypes = (rng.random((n, af.size)) < af).astype(np.int8)
    n_samples = n // 2
    empty = np.full(n_samples, "", dtype=object)
    return HaplotypeSet(
        haplotypes=haplotypes[: 2 * n_samples],
        chrom=real.chrom,
        pos=real.pos,
        id=real.id,
        ref=real.ref,
        alt=real.alt,
        samples=[f"AG{i}" for i in range(n_samples)],
        population=empty,
        super_population=empty,
        split=empty,
    )


def timed(label, function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    print(f"{label:<48s} {time.perf_counter() - start:7.2f} s", flush=True)
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vcf", default=DEFAULT_VCF)
    parser.add_argument("--panel", default=DEFAULT_PANEL)
    parser.add_argument("--n-ag", type=int, default=5000)
    parser.add_argument("--full", action="store_true", help="also time run_evaluate end to end")
    args = parser.parse_args()

    # Timings on a shared machine depend on what else runs: say so next to them.
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    real = timed("read VCF (scikit-allel)", read_lct, args.vcf, args.panel)
    ag = pseudo_ags(real, args.n_ag)
    train, test, synthetic = real.train().haplotypes, real.test().haplotypes, ag.haplotypes
    print(f"train {train.shape}, test {test.shape}, AG {synthetic.shape}")

    timed("allele frequencies + r/RMSE", metrics.allele_frequency_agreement, train, synthetic)
    n_sfs = min(train.shape[0], test.shape[0], synthetic.shape[0])
    spectra = timed(
        f"SFS projected to {n_sfs} haplotypes (x3 sets)",
        lambda: [metrics.site_frequency_spectrum(h, n_sfs) for h in (train, test, synthetic)],
    )
    timed(
        "SFS distance + rare-variant counts (x2)",
        lambda: [
            (metrics.sfs_distance(spectra[0], x, n_sfs), metrics.rare_variant_counts(x, n_sfs))
            for x in spectra[1:]
        ],
    )
    pca = timed("PCA fit (train, 10 PCs)", metrics.fit_pca, train)
    scores = timed(
        "PCA projection (AG + test)", lambda: (pca.transform(synthetic), pca.transform(test))
    )
    train_scores = pca.transform(train)
    timed("PCA Wasserstein per PC", metrics.wasserstein_per_component, scores[0], train_scores)
    n_2d = min(1500, train.shape[0], test.shape[0], synthetic.shape[0])
    timed(
        f"PC1-PC2 optimal transport, {n_2d} points (x3)",
        lambda: [
            metrics.wasserstein_2d(a[:, :2], b[:, :2], n_2d)
            for a, b in (
                (scores[0], train_scores),
                (scores[0], scores[1]),
                (scores[1], train_scores),
            )
        ],
    )
    af = metrics.allele_frequency(train)
    maf = np.minimum(af, 1 - af)
    sites = np.flatnonzero(maf >= 0.01)
    band = metrics.band_pairs(real.chrom[sites], 200)
    subset = metrics.subset_pairs(real.chrom[sites], 1000)
    i = sites[np.concatenate([band[0], subset[0]])]
    j = sites[np.concatenate([band[1], subset[1]])]
    print(f"LD: {sites.size} SNPs with MAF >= 0.01, {i.size} pairs")
    timed(
        "LD r^2 of pairs (train + test + AG)",
        lambda: [metrics.ld_r2_pairs(h, i, j) for h in (train, test, synthetic)],
    )
    timed(
        "LD r^2 matrix, 200-SNP window (x2)",
        lambda: [metrics.ld_r2_matrix(h[:, sites[:200]]) for h in (train, synthetic)],
    )
    chrom = real.chrom[sites]
    groups = [metrics.gap_triplets(chrom, g, 5000) for g in (1, 4, 16, 64, 256)]
    groups.append(metrics.random_triplets(chrom, 5000, window=None))
    triplets = [sites[np.concatenate([g[x] for g in groups])] for x in range(3)]
    timed(
        f"3-point correlations, {triplets[0].size} triplets (x3 sets)",
        lambda: [metrics.three_point_correlation(h, *triplets) for h in (train, test, synthetic)],
    )
    timed(
        "pairwise distance samples (4 x 2000)",
        lambda: [
            metrics.pairwise_distance_sample(train),
            metrics.pairwise_distance_sample(test),
            metrics.pairwise_distance_sample(synthetic),
            metrics.pairwise_distance_sample(synthetic, train),
        ],
    )
    timed("AATS vs train", metrics.adversarial_accuracy_subsampled, train, synthetic)
    timed("AATS vs test", metrics.adversarial_accuracy_subsampled, test, synthetic)
    timed("AATS test vs train (yardstick)", metrics.adversarial_accuracy_subsampled, train, test)
    timed(
        "NN distances AG->train, AG->test, test->train",
        lambda: [
            metrics.nearest_neighbour_distances(synthetic, train),
            metrics.nearest_neighbour_distances(synthetic, test),
            metrics.nearest_neighbour_distances(test, train),
        ],
    )
    d_ag_train = timed("Hamming matrix AG x train", metrics.hamming_distances, synthetic, train)
    d_ag_test = metrics.hamming_distances(synthetic, test)
    d_test_train = metrics.hamming_distances(test, train)
    labels = real.train().haplotype_super_population

    def structure():
        ag_labels = metrics.nearest_neighbour_labels(d_ag_train, labels, 10)
        test_labels = metrics.nearest_neighbour_labels(d_test_train, labels, 10)
        for group in np.unique(labels):
            for other, other_labels in ((synthetic, ag_labels), (test, test_labels)):
                if np.count_nonzero(other_labels == group) >= 2:
                    metrics.hudson_fst(train[labels == group], other[other_labels == group])

    timed("k-NN labels (k=10) + Hudson F_ST per super-pop.", structure)

    def membership_inference():
        dcr_train, dcr_test = d_ag_train.min(axis=0), d_ag_test.min(axis=0)
        return metrics.roc_auc(-dcr_train, -dcr_test), metrics.roc_curve(-dcr_train, -dcr_test)

    timed("membership inference (DCR, AUC, ROC)", membership_inference)

    if args.full:
        from artificial_genomes.evaluate import run_evaluate

        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            real.save(tmp / "haplotypes.npz")
            ag.save(tmp / "ag.npz")
            result = timed(
                "run_evaluate end to end (with figures)",
                run_evaluate,
                tmp / "haplotypes.npz",
                tmp / "ag.npz",
                tmp / "eval" / "metrics.json",
                tmp / "eval" / "figures",
                model="independent",
                dataset="lct",
            )
            for key, value in result["timings_s"].items():
                print(f"  run_evaluate {key:<34s} {value:7.2f} s")


if __name__ == "__main__":
    main()
