"""The ``evaluate`` step: every realism and privacy metric of one model's AGs, and its figures.

AGs are compared with the real training haplotypes (what the model saw) and with the held-out test
haplotypes (what it never saw). Where it makes sense the same metric is also computed for the real
test set against the real training set: the *yardstick*, i.e. the value that real haplotypes of
new people reach, which is what a good generator should reach too.
"""

import json
import logging
import math
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from scipy.stats import wasserstein_distance

from . import metrics, plots
from .errors import InputError
from .fileio import atomic_path
from .haplotypes import HaplotypeSet

log = logging.getLogger(__name__)

FIGURES = {
    "af_scatter": "allele_frequency.png",
    "pca": "pca.png",
    "ld_decay": "ld_decay.png",
    "ld_heatmap": "ld_heatmap.png",
    "three_point": "three_point_correlation.png",
    "hamming": "hamming_distances.png",
    "nearest_neighbour": "nearest_neighbour.png",
}
# Principal components whose Wasserstein distances are averaged into the summary number.
PCA_SUMMARY_COMPONENTS = 4


def run_evaluate(
    haplotypes_npz,
    ag_npz,
    metrics_json,
    figure_dir,
    model: str = "",
    dataset: str = "",
    seed: int = 0,
    *,
    n_components: int = 10,
    ld_width: int = 200,
    ld_subset_sites: int = 1000,
    ld_min_maf: float = 0.01,
    ld_bins: int = 20,
    heatmap_sites: int = 200,
    n_triplets: int = 10000,
    triplet_window: int = 50,
    distance_sample: int = 2000,
) -> dict:
    """Compute all metrics of a set of AGs, write ``metrics.json`` and the figures.

    Parameters
    ----------
    haplotypes_npz : str or path-like
        Real haplotypes with their train/test split (:meth:`HaplotypeSet.save` output).
    ag_npz : str or path-like
        The AGs, a :class:`HaplotypeSet` on the same sites.
    metrics_json : str or path-like
        JSON file to write (atomically); all values finite, ``null`` where undefined.
    figure_dir : str or path-like
        Folder for the PNG figures (created).
    model, dataset : str
        Names recorded in the JSON and in figure titles.
    seed : int
        Seed of every random subsample (AATS, distance samples, LD site subset, PCA start).
    n_components : int
        Principal components fitted on the training haplotypes.
    ld_width : int
        Each SNP is paired with this many following SNPs for the r^2 correlation and LD decay.
    ld_subset_sites : int
        All pairs among this many random SNPs are added to the LD decay (the long distances).
    ld_min_maf : float
        LD uses only SNPs with at least this minor allele frequency in the training haplotypes
        (r^2 of rarer SNPs is mostly noise).
    ld_bins : int
        Log-spaced distance bins of the LD decay.
    heatmap_sites : int
        SNPs in the r^2 heatmap window.
    n_triplets, triplet_window : int
        Random triplets of LD SNPs, each within ``triplet_window`` consecutive LD SNPs, for the
        three-point correlations.
    distance_sample : int
        Haplotypes drawn per set for the pairwise-distance distributions.

    Returns
    -------
    dict
        What was written to ``metrics_json``.
    """
    start = time.perf_counter()
    real = HaplotypeSet.load(haplotypes_npz)
    ag = HaplotypeSet.load(ag_npz)
    _check_inputs(real, ag, haplotypes_npz, ag_npz)
    train_set, test_set = real.train(), real.test()
    train, test, synthetic = train_set.haplotypes, test_set.haplotypes, ag.haplotypes
    log.info(
        "evaluating %d AGs against %d training and %d test haplotypes on %d SNPs",
        synthetic.shape[0],
        train.shape[0],
        test.shape[0],
        real.n_variants,
    )
    seeds = _seeds(seed)
    figure_dir = Path(figure_dir)
    figure_dir.mkdir(parents=True, exist_ok=True)
    label = " / ".join(x for x in (dataset, model) if x)
    timings = {}
    result = {
        "model": model,
        "dataset": dataset,
        "seed": int(seed),
        "n_ag": int(synthetic.shape[0]),
        "n_train": int(train.shape[0]),
        "n_test": int(test.shape[0]),
        "n_variants": int(real.n_variants),
    }
    yardstick = {}

    with _timed(timings, "allele_frequency"):
        train_af = metrics.allele_frequency(train)
        test_af = metrics.allele_frequency(test)
        ag_af = metrics.allele_frequency(synthetic)
        for name, af in (("train", train_af), ("test", test_af)):
            result[f"af_r_{name}"] = metrics.pearson_r(af, ag_af)
            result[f"af_rmse_{name}"] = _rmse(af, ag_af)
        yardstick["af_r"] = metrics.pearson_r(train_af, test_af)
        yardstick["af_rmse"] = _rmse(train_af, test_af)
        result["n_monomorphic_ag"] = int(np.count_nonzero((ag_af == 0) | (ag_af == 1)))
        plots.allele_frequency_scatter(
            train_af,
            ag_af,
            test_af,
            figure_dir / FIGURES["af_scatter"],
            f"Allele frequencies {label}",
        )

    with _timed(timings, "pca"):
        pca = metrics.fit_pca(train, n_components=n_components, seed=seeds["pca"])
        train_scores = pca.transform(train)
        test_scores = pca.transform(test)
        ag_scores = pca.transform(synthetic)
        scale = np.maximum(train_scores.std(axis=0), 1e-12)
        w_train = metrics.wasserstein_per_component(ag_scores, train_scores)
        w_test = metrics.wasserstein_per_component(ag_scores, test_scores)
        w_yard = metrics.wasserstein_per_component(test_scores, train_scores)
        k = min(PCA_SUMMARY_COMPONENTS, len(scale))
        result["pca_w1_train"] = float(np.mean(w_train[:k] / scale[:k]))
        result["pca_w1_test"] = float(np.mean(w_test[:k] / scale[:k]))
        yardstick["pca_w1"] = float(np.mean(w_yard[:k] / scale[:k]))
        result["pca"] = {
            "explained_variance_ratio": pca.explained_variance_ratio.tolist(),
            "score_sd_train": scale.tolist(),
            "w1_ag_train": w_train.tolist(),
            "w1_ag_test": w_test.tolist(),
            "w1_test_train": w_yard.tolist(),
            "summary_components": k,
        }
        shown = _subsample_rows(synthetic.shape[0], 5000, seeds["plot"])
        plots.pca_scatter(
            train_scores,
            train_set.haplotype_super_population,
            ag_scores[shown],
            pca.explained_variance_ratio,
            figure_dir / FIGURES["pca"],
            f"PCA {label}",
        )

    with _timed(timings, "ld"):
        ld = _ld_metrics(
            real,
            {"train": train, "test": test, "ag": synthetic},
            train_af,
            seed=seeds["ld"],
            width=ld_width,
            subset_sites=ld_subset_sites,
            min_maf=ld_min_maf,
            n_bins=ld_bins,
        )
        result["ld_decay_error"] = ld["decay_error_ag"]
        result["r2_correlation"] = ld["r2_correlation_ag"]
        yardstick["ld_decay_error"] = ld["decay_error_test"]
        yardstick["r2_correlation"] = ld["r2_correlation_test"]
        result["ld"] = ld["summary"]
        plots.ld_decay_curves(
            ld["edges"],
            {"real train": ld["decay_train"], "real test": ld["decay_test"], "AG": ld["decay_ag"]},
            ld["counts"],
            figure_dir / FIGURES["ld_decay"],
            f"LD decay {label}",
        )
        window = _heatmap_window(real.chrom, ld["sites"], heatmap_sites)
        plots.ld_heatmap(
            metrics.ld_r2_matrix(train[:, window]),
            metrics.ld_r2_matrix(synthetic[:, window]),
            figure_dir / FIGURES["ld_heatmap"],
            f"LD (r$^2$), {window.size} SNPs, {label}",
        )
        result["ld"]["heatmap_sites"] = int(window.size)

    with _timed(timings, "three_point"):
        sites = ld["sites"]
        i, j, k = (
            sites[x]
            for x in metrics.random_triplets(
                real.chrom[sites], n_triplets, triplet_window, seeds["triplets"]
            )
        )
        c3 = {
            name: metrics.three_point_correlation(haplotypes, i, j, k)
            for name, haplotypes in (("train", train), ("test", test), ("ag", synthetic))
        }
        result["three_point_r"] = metrics.pearson_r(c3["train"], c3["ag"])
        yardstick["three_point_r"] = metrics.pearson_r(c3["train"], c3["test"])
        result["three_point"] = {"n_triplets": int(i.size), "window": int(triplet_window)}
        plots.three_point_scatter(
            c3["train"],
            c3["ag"],
            c3["test"],
            figure_dir / FIGURES["three_point"],
            f"3-point correlations {label}",
        )

    with _timed(timings, "distance_matrices"):
        # Every Hamming-distance metric below reads blocks of these matrices, so each pair of
        # haplotypes is compared once (the costly part: one float32 matrix product per block).
        d = _distance_matrices(train, test, synthetic, seeds["ag_subset"])

    with _timed(timings, "adversarial_accuracy"):
        ag_rows = d["ag_rows"]
        for name, cross, within in (
            ("train", d["ag_train"], d["train_train"]),
            ("test", d["ag_test"], d["test_test"]),
        ):
            n = min(ag_rows.size, within.shape[0])
            real_rows = _subsample_rows(within.shape[0], n, seeds[f"aa_{name}"])
            aa = metrics.adversarial_accuracy_from_distances(
                cross[np.ix_(ag_rows[:n], real_rows)].T,
                within[np.ix_(real_rows, real_rows)],
                d["ag_ag"][:n, :n],
            )
            result[f"aa_truth_{name}"] = aa["aa_truth"]
            result[f"aa_syn_{name}"] = aa["aa_syn"]
            result[f"aats_{name}"] = aa["aats"]
            result[f"aats_n_{name}"] = int(n)
        result["privacy_loss"] = result["aats_test"] - result["aats_train"]
        n = min(train.shape[0], test.shape[0])
        train_rows = _subsample_rows(train.shape[0], n, seeds["aa_yard_train"])
        test_rows = _subsample_rows(test.shape[0], n, seeds["aa_yard_test"])
        aa = metrics.adversarial_accuracy_from_distances(
            d["test_train"][np.ix_(test_rows, train_rows)].T,
            d["train_train"][np.ix_(train_rows, train_rows)],
            d["test_test"][np.ix_(test_rows, test_rows)],
        )
        yardstick.update(aats=aa["aats"], aa_truth=aa["aa_truth"], aa_syn=aa["aa_syn"])

    with _timed(timings, "nearest_neighbour"):
        nn_ag_train = d["ag_train"].min(axis=1)
        nn_ag_test = d["ag_test"].min(axis=1)
        nn_test_train = d["test_train"].min(axis=1)
        result["exact_copies_train"] = int(np.count_nonzero(nn_ag_train == 0))
        result["exact_copies_test"] = int(np.count_nonzero(nn_ag_test == 0))
        yardstick["exact_copies"] = int(np.count_nonzero(nn_test_train == 0))
        result["exact_copies_train_fraction"] = result["exact_copies_train"] / synthetic.shape[0]
        yardstick["exact_copies_fraction"] = yardstick["exact_copies"] / test.shape[0]
        result["nn_distance_mean_ag_train"] = float(nn_ag_train.mean())
        result["nn_distance_median_ag_train"] = float(np.median(nn_ag_train))
        result["nn_distance_mean_ag_test"] = float(nn_ag_test.mean())
        result["nn_distance_mean_test_train"] = float(nn_test_train.mean())
        result["nn_distance_median_test_train"] = float(np.median(nn_test_train))
        # AGs as far from the training set as new real people are: ratio 1; copies: 0.
        denominator = float(nn_test_train.mean())
        result["nn_distance_ratio"] = (
            float(nn_ag_train.mean()) / denominator if denominator > 0 else None
        )
        plots.nearest_neighbour_histograms(
            nn_ag_train,
            nn_test_train,
            figure_dir / FIGURES["nearest_neighbour"],
            f"Nearest-neighbour distances {label}",
        )

    with _timed(timings, "distance_distributions"):
        train_rows = _subsample_rows(train.shape[0], distance_sample, seeds["d1"])
        test_rows = _subsample_rows(test.shape[0], distance_sample, seeds["d2"])
        ag_sample = np.arange(min(distance_sample, ag_rows.size))  # ag_rows is a random order
        within_train = _upper_triangle(d["train_train"][np.ix_(train_rows, train_rows)])
        within_test = _upper_triangle(d["test_test"][np.ix_(test_rows, test_rows)])
        within_ag = _upper_triangle(d["ag_ag"][np.ix_(ag_sample, ag_sample)])
        between = d["ag_train"][np.ix_(ag_rows[ag_sample], train_rows)].ravel()
        result["hamming_w1"] = float(wasserstein_distance(within_train, within_ag))
        yardstick["hamming_w1"] = float(wasserstein_distance(within_train, within_test))
        result["hamming"] = {
            "mean_within_train": float(within_train.mean()),
            "mean_within_test": float(within_test.mean()),
            "mean_within_ag": float(within_ag.mean()),
            "mean_ag_train": float(between.mean()),
            "sample": int(distance_sample),
        }
        plots.hamming_histograms(
            within_train,
            within_ag,
            between,
            figure_dir / FIGURES["hamming"],
            f"Pairwise distances {label}",
        )
    del d

    result["yardstick"] = yardstick
    result["figures"] = _figure_paths(figure_dir, Path(metrics_json).parent)
    timings["total"] = time.perf_counter() - start
    result["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    result = _json_safe(result)
    with atomic_path(metrics_json) as tmp:
        tmp.write_text(json.dumps(result, indent=2, allow_nan=False) + "\n")
    log.info(
        "AATS train %.3f, test %.3f (privacy loss %+.3f), AF r %.3f, %d exact copies; %.1f s",
        result["aats_train"],
        result["aats_test"],
        result["privacy_loss"],
        result["af_r_train"],
        result["exact_copies_train"],
        timings["total"],
    )
    log.info("metrics written to %s, figures to %s", metrics_json, figure_dir)
    return result


def _ld_metrics(real, sets, train_af, *, seed, width, subset_sites, min_maf, n_bins):
    """r^2 of the same SNP pairs in each set; LD decay and r^2 correlation against "train".

    The pairs are each LD SNP (training MAF >= ``min_maf``) with its ``width`` following SNPs on
    the same contig (the band: short distances, used for the r^2 correlation) plus all pairs among
    ``subset_sites`` random LD SNPs (all distances, added to the LD decay only).
    """
    maf = np.minimum(train_af, 1 - train_af)
    sites = np.flatnonzero((maf >= min_maf) & (maf > 0))
    if sites.size < 2:
        log.warning(
            "only %d SNPs with training MAF >= %g: LD metrics are set to 0", sites.size, min_maf
        )
    chrom = real.chrom[sites]
    band_i, band_j = metrics.band_pairs(chrom, width)
    sub_i, sub_j = metrics.subset_pairs(chrom, subset_sites, seed)
    pairs = np.unique(
        np.concatenate([np.stack([band_i, band_j]), np.stack([sub_i, sub_j])], axis=1), axis=1
    )
    i, j = sites[pairs[0]], sites[pairs[1]]
    in_band = np.isin(pairs[0] * (sites.size + 1) + pairs[1], band_i * (sites.size + 1) + band_j)
    distance = np.abs(real.pos[j] - real.pos[i])
    r2 = {name: metrics.ld_r2_pairs(haplotypes, i, j) for name, haplotypes in sets.items()}
    edges = metrics.log_distance_bins(distance, n_bins)
    decay = {name: metrics.ld_decay(values, distance, edges) for name, values in r2.items()}
    counts = decay["train"][1]
    used = counts > 0
    out = {"edges": edges, "counts": counts, "sites": sites}
    for name in ("train", "test", "ag"):
        out[f"decay_{name}"] = decay[name][0]
    for name in ("test", "ag"):
        difference = np.abs(decay[name][0][used] - decay["train"][0][used])
        out[f"decay_error_{name}"] = float(difference.mean()) if used.any() else 0.0
        out[f"r2_correlation_{name}"] = metrics.pearson_r(r2["train"][in_band], r2[name][in_band])
    out["summary"] = {
        "min_maf": float(min_maf),
        "n_sites": int(sites.size),
        "n_pairs": int(i.size),
        "n_band_pairs": int(np.count_nonzero(in_band)),
        "band_width": int(width),
        "bin_edges_bp": edges.tolist(),
        "pairs_per_bin": counts.tolist(),
        "mean_r2_train": out["decay_train"].tolist(),
        "mean_r2_test": out["decay_test"].tolist(),
        "mean_r2_ag": out["decay_ag"].tolist(),
    }
    return out


def _distance_matrices(train, test, synthetic, seed):
    """All Hamming-distance matrices the metrics need, int32.

    ``ag_rows`` is a random order of (a subset of) the AGs, as many as the larger real set, and
    ``ag_ag`` the distances among them in that order: its leading blocks are random AG subsets of
    any smaller size.
    """
    n_subset = min(synthetic.shape[0], max(train.shape[0], test.shape[0]))
    ag_rows = np.random.default_rng(seed).permutation(synthetic.shape[0])[:n_subset]
    return {
        "train_train": metrics.hamming_distances(train),
        "test_test": metrics.hamming_distances(test),
        "test_train": metrics.hamming_distances(test, train),
        "ag_train": metrics.hamming_distances(synthetic, train),
        "ag_test": metrics.hamming_distances(synthetic, test),
        "ag_ag": metrics.hamming_distances(synthetic[ag_rows]),
        "ag_rows": ag_rows,
    }


def _upper_triangle(d):
    return d[np.triu_indices(d.shape[0], k=1)]


def _heatmap_window(chrom, sites, n):
    """Up to ``n`` consecutive LD SNPs from the middle of the contig that has most of them."""
    if sites.size == 0:
        return np.arange(min(n, len(chrom)))
    contigs, counts = np.unique(chrom[sites], return_counts=True)
    on_contig = sites[chrom[sites] == contigs[counts.argmax()]]
    start = max(0, (on_contig.size - n) // 2)
    return on_contig[start : start + n]


def _check_inputs(real, ag, real_path, ag_path):
    for name in ("chrom", "pos", "ref", "alt"):
        a, b = getattr(real, name), getattr(ag, name)
        if a.shape != b.shape or not np.array_equal(a, b):
            raise InputError(
                f"the AGs in {ag_path} are not on the sites of {real_path} ({name} differs: "
                f"{a.size} real and {b.size} AG sites)",
                "sample the AGs from a model trained on these haplotypes",
            )
    for split in ("train", "test"):
        if np.count_nonzero(real.split == split) < 2:
            raise InputError(
                f"{real_path} has fewer than 2 '{split}' individuals",
                "encode the haplotypes with a train/test split (both halves non-empty)",
            )
    if ag.haplotypes.shape[0] < 2:
        raise InputError(f"{ag_path} holds fewer than 2 AGs", "sample more AGs")


def _rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def _seeds(seed):
    """One independent seed per random choice, stable when choices are added or removed."""
    names = "pca plot ld triplets ag_subset d1 d2 aa_train aa_test aa_yard_train aa_yard_test"
    out = {}
    for name in names.split():
        sequence = np.random.SeedSequence([int(seed), zlib.crc32(name.encode())])
        out[name] = int(sequence.generate_state(1)[0])
    return out


def _subsample_rows(n, k, seed):
    if n <= k:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def _figure_paths(figure_dir, base):
    out = {}
    for key, name in FIGURES.items():
        path = (figure_dir / name).resolve()
        try:
            out[key] = str(path.relative_to(Path(base).resolve()))
        except ValueError:
            out[key] = str(path)
    return out


def _json_safe(value):
    """Plain Python types only; non-finite floats become None (``null``)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_json_safe(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


@contextmanager
def _timed(timings, name):
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    log.info("%s: %.2f s", name, timings[name])
