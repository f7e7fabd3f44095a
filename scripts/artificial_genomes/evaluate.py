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
    "sfs": "site_frequency_spectrum.png",
    "pca": "pca.png",
    "structure": "population_structure.png",
    "ld_decay": "ld_decay.png",
    "ld_heatmap": "ld_heatmap.png",
    "three_point": "three_point_correlation.png",
    "hamming": "hamming_distances.png",
    "nearest_neighbour": "nearest_neighbour.png",
    "membership_inference": "membership_inference.png",
}
# Principal components whose Wasserstein distances are averaged into the summary number.
PCA_SUMMARY_COMPONENTS = 4
# Singleton and rare-site ratios (AG / real) are reported only where the real set has at least this
# many such sites (expected, after projection): a ratio of a handful of sites is noise.
SFS_RATIO_MIN_SITES = 10
# SNP gaps of the three-point correlations of triplets (i, i + g, i + 2g), as in Yelmen et al. 2021.
THREE_POINT_GAPS = (1, 4, 16, 64, 256)


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
    n_triplets: int = 5000,
    triplet_gaps=THREE_POINT_GAPS,
    distance_sample: int = 2000,
    rare_frequency: float = 0.01,
    pca_2d_sample: int = 1500,
    knn_k: int = 10,
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
    n_triplets : int
        Triplets per group for the three-point correlations (a random subset where there are
        more): one group per gap of ``triplet_gaps`` and one of random triplets anywhere on a
        contig, all among the LD SNPs.
    triplet_gaps : sequence of int
        Gaps g, in LD SNPs, of the triplets (i, i + g, i + 2g).
    distance_sample : int
        Haplotypes drawn per set for the pairwise-distance distributions.
    rare_frequency : float
        Minor allele frequency below which a site counts as rare in the site frequency spectrum.
    pca_2d_sample : int
        Points drawn per cloud for the optimal-transport distance on PC1-PC2 (capped at the
        smallest set, the same size for the AGs and the yardstick).
    knn_k : int
        Nearest training haplotypes (Hamming distance) whose population labels vote for the
        label of an AG or a test haplotype.

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

    with _timed(timings, "sfs"):
        sfs = _sfs_metrics({"train": train, "test": test, "ag": synthetic}, rare_frequency)
        result["sfs_distance"] = sfs["distance_ag"]
        result["singleton_ratio"] = sfs["singleton_ratio_ag"]
        result["rare_ratio"] = sfs["rare_ratio_ag"]
        yardstick["sfs_distance"] = sfs["distance_test"]
        yardstick["singleton_ratio"] = sfs["singleton_ratio_test"]
        yardstick["rare_ratio"] = sfs["rare_ratio_test"]
        result["sfs"] = sfs["summary"]
        plots.site_frequency_spectrum(
            sfs["edges"],
            {
                "real train": sfs["binned"]["train"],
                "real test": sfs["binned"]["test"],
                "AG": sfs["binned"]["ag"],
            },
            {
                "real train": sfs["classes"]["train"],
                "real test": sfs["classes"]["test"],
                "AG": sfs["classes"]["ag"],
            },
            sfs["n"],
            rare_frequency,
            figure_dir / FIGURES["sfs"],
            f"Site frequency spectrum {label}",
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
        # the joint PC1-PC2 cloud: exact optimal transport on equal-size random subsets
        n_2d = min(pca_2d_sample, train.shape[0], test.shape[0], synthetic.shape[0])
        plane = min(2, len(scale))
        xy = {
            name: scores[:, :plane] / scale[:plane]
            for name, scores in (("train", train_scores), ("test", test_scores), ("ag", ag_scores))
        }
        result["pca_emd_train"] = metrics.wasserstein_2d(
            xy["ag"], xy["train"], n_2d, seeds["pca_emd_train"]
        )
        result["pca_emd_test"] = metrics.wasserstein_2d(
            xy["ag"], xy["test"], n_2d, seeds["pca_emd_test"]
        )
        yardstick["pca_emd"] = metrics.wasserstein_2d(
            xy["test"], xy["train"], n_2d, seeds["pca_emd_yard"]
        )
        result["pca"] = {
            "emd_points": int(n_2d),
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
        c3 = _three_point_metrics(
            real.chrom,
            ld["sites"],
            {"train": train, "test": test, "ag": synthetic},
            triplet_gaps,
            n_triplets,
            seeds["triplets"],
        )
        result["three_point_r"] = c3["r_ag"]
        yardstick["three_point_r"] = c3["r_test"]
        for group, values in c3["groups"].items():
            result[f"three_point_r_{group}"] = values["r_ag"]
            yardstick[f"three_point_r_{group}"] = values["r_test"]
        result["three_point"] = {
            "groups": {
                group: {k: v for k, v in values.items() if k in ("n_triplets", "r_ag", "r_test")}
                for group, values in c3["groups"].items()
            },
            "gaps": [int(g) for g in triplet_gaps],
            "triplets_per_group": int(n_triplets),
        }
        plots.three_point_panels(
            {
                group: (values["train"], values["ag"], values["test"], values["r_ag"])
                for group, values in c3["groups"].items()
            },
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

    with _timed(timings, "population_structure"):
        structure = _structure_metrics(train_set, test_set, synthetic, d, knn_k)
        main = structure["levels"].get(structure["level"]) if structure["level"] else None
        result["fst_ag"] = main["fst_mean_ag"] if main else None
        result["population_share_tv"] = main["share_tv_ag"] if main else None
        yardstick["fst_ag"] = main["fst_mean_test"] if main else None
        yardstick["population_share_tv"] = main["share_tv_test"] if main else None
        result["structure"] = structure
        plots.population_structure(
            main,
            structure["level"],
            figure_dir / FIGURES["structure"],
            f"Population structure {label}",
        )

    with _timed(timings, "membership_inference"):
        # distance to closest record: each real haplotype's distance to its nearest AG
        dcr_train = d["ag_train"].min(axis=0)
        dcr_test = d["ag_test"].min(axis=0)
        result["mia_auc"] = metrics.roc_auc(-dcr_train, -dcr_test)
        fpr, tpr = metrics.roc_curve(-dcr_train, -dcr_test)
        result["mia"] = {
            "score": "minus the Hamming distance to the nearest AG",
            "members": "training haplotypes",
            "non_members": "test haplotypes",
            "dcr_mean_train": float(dcr_train.mean()),
            "dcr_mean_test": float(dcr_test.mean()),
            "dcr_zero_train": int(np.count_nonzero(dcr_train == 0)),
            "dcr_zero_test": int(np.count_nonzero(dcr_test == 0)),
            "tpr_at_fpr_1pct": float(np.interp(0.01, fpr, tpr)),
        }
        plots.membership_inference(
            dcr_train,
            dcr_test,
            fpr,
            tpr,
            result["mia_auc"],
            figure_dir / FIGURES["membership_inference"],
            f"Membership inference {label}",
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


def _sfs_metrics(sets, rare_frequency):
    """Folded spectra of every set projected to the smallest set's size, and their summaries.

    The singleton and rare-site ratios (AGs or test set over training set) are None where the
    training set has fewer than ``SFS_RATIO_MIN_SITES`` such sites.
    """
    n = min(h.shape[0] for h in sets.values())
    spectra = {name: metrics.site_frequency_spectrum(h, n) for name, h in sets.items()}
    edges = metrics.frequency_class_edges(n)
    classes = {
        name: metrics.rare_variant_counts(x, n, rare_frequency) for name, x in spectra.items()
    }
    out = {
        "n": n,
        "edges": edges,
        "binned": {name: metrics.binned_spectrum(x, edges) for name, x in spectra.items()},
        "classes": classes,
    }
    for name in ("test", "ag"):
        out[f"distance_{name}"] = metrics.sfs_distance(spectra["train"], spectra[name], n)
        for kind in ("singleton", "rare"):
            key = "singletons" if kind == "singleton" else "rare"
            real_count = classes["train"][key]
            out[f"{kind}_ratio_{name}"] = (
                _ratio(classes[name][key], real_count)
                if real_count >= SFS_RATIO_MIN_SITES
                else None
            )
    out["summary"] = {
        "n_haplotypes": int(n),
        "rare_frequency": float(rare_frequency),
        "class_edges": edges.tolist(),
        "sites_per_class": {name: x.tolist() for name, x in out["binned"].items()},
        "classes": classes,
    }
    return out


def _three_point_metrics(chrom, sites, sets, gaps, n_triplets, seed):
    """Three-point correlations of triplets at each gap and of random triplets, among ``sites``.

    The summary r is the mean over the groups that hold at least 2 triplets of the correlation
    between the training set's values and those of the AGs (or of the test set); a group with
    fewer triplets (a gap longer than a contig) has r None.
    """
    site_chrom = chrom[sites]
    triplets = {f"gap{g}": metrics.gap_triplets(site_chrom, int(g), n_triplets, seed) for g in gaps}
    triplets["random"] = metrics.random_triplets(site_chrom, n_triplets, None, seed)
    i, j, k = (np.concatenate([t[x] for t in triplets.values()]) for x in range(3))
    values = {
        name: metrics.three_point_correlation(h, sites[i], sites[j], sites[k])
        for name, h in sets.items()
    }
    bounds = np.cumsum([0] + [t[0].size for t in triplets.values()])
    groups = {}
    for (group, _), lo, hi in zip(triplets.items(), bounds[:-1], bounds[1:]):
        part = {name: v[lo:hi] for name, v in values.items()}
        part["n_triplets"] = int(hi - lo)
        enough = part["n_triplets"] >= 2
        part["r_ag"] = metrics.pearson_r(part["train"], part["ag"]) if enough else None
        part["r_test"] = metrics.pearson_r(part["train"], part["test"]) if enough else None
        groups[group] = part
    used = [g for g in groups.values() if g["n_triplets"] >= 2]
    if not used:
        log.warning("no SNP triplets among %d LD SNPs: three-point r set to 0", sites.size)
    return {
        "groups": groups,
        "r_ag": float(np.mean([g["r_ag"] for g in used])) if used else 0.0,
        "r_test": float(np.mean([g["r_test"] for g in used])) if used else 0.0,
    }


def _structure_metrics(train_set, test_set, synthetic, d, k):
    """Population labels of AGs and test haplotypes by k-NN vote, shares and Hudson F_ST per group.

    Each AG (and each test haplotype, for the yardstick) takes the majority label of its ``k``
    nearest training haplotypes in Hamming distance. Per group P: the share of haplotypes
    labelled P, and Hudson's F_ST between the training haplotypes of P and the AGs (test
    haplotypes) labelled P, where both sets hold at least 2 haplotypes. Done for both label
    levels; the summary uses super-populations when the training set has at least two, else
    populations.
    """
    train, test = train_set.haplotypes, test_set.haplotypes
    out = {"k": int(k), "distance": "Hamming", "level": None, "levels": {}}
    for level in ("super_population", "population"):
        labels = getattr(train_set, f"haplotype_{level}")
        if np.all(labels == ""):
            continue
        labels = np.where(labels == "", "unknown", labels)
        true_test = getattr(test_set, f"haplotype_{level}")
        true_test = np.where(true_test == "", "unknown", true_test)
        groups = sorted(set(labels.tolist()))
        ag_labels = metrics.nearest_neighbour_labels(d["ag_train"], labels, k)
        test_labels = metrics.nearest_neighbour_labels(d["test_train"], labels, k)
        share_train = metrics.label_shares(labels, groups)
        share_ag = metrics.label_shares(ag_labels, groups)
        share_test_knn = metrics.label_shares(test_labels, groups)
        fst_ag, fst_test = [], []
        for group in groups:
            real_group = train[labels == group]
            fst_ag.append(_fst_or_none(real_group, synthetic[ag_labels == group]))
            fst_test.append(_fst_or_none(real_group, test[test_labels == group]))
        found_ag = [x for x in fst_ag if x is not None]
        found_test = [x for x in fst_test if x is not None]
        out["levels"][level] = {
            "groups": groups,
            "share_train": share_train.tolist(),
            "share_test": metrics.label_shares(true_test, groups).tolist(),
            "share_test_knn": share_test_knn.tolist(),
            "share_ag": share_ag.tolist(),
            "n_ag": [int(np.count_nonzero(ag_labels == g)) for g in groups],
            "fst_ag": fst_ag,
            "fst_test": fst_test,
            "fst_mean_ag": float(np.mean(found_ag)) if found_ag else None,
            "fst_mean_test": float(np.mean(found_test)) if found_test else None,
            "groups_without_ag": int(sum(x is None for x in fst_ag)),
            "share_tv_ag": float(0.5 * np.abs(share_ag - share_train).sum()),
            "share_tv_test": float(0.5 * np.abs(share_test_knn - share_train).sum()),
            "knn_accuracy_test": float(np.mean(test_labels == true_test)),
        }
    levels = out["levels"]
    if "super_population" in levels and len(levels["super_population"]["groups"]) >= 2:
        out["level"] = "super_population"
    elif "population" in levels:
        out["level"] = "population"
    elif levels:
        out["level"] = "super_population"
    else:
        log.warning("no population labels in the training haplotypes: F_ST and shares skipped")
    return out


def _fst_or_none(a, b):
    if a.shape[0] < 2 or b.shape[0] < 2:
        return None
    return metrics.hudson_fst(a, b)


def _ratio(numerator, denominator):
    return float(numerator / denominator) if denominator > 0 else None


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
    names = (
        "pca plot ld triplets ag_subset d1 d2 aa_train aa_test aa_yard_train aa_yard_test "
        "pca_emd_train pca_emd_test pca_emd_yard"
    )
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
