"""Figures of the evaluation: one PNG per metric family, written atomically.

Built on matplotlib's object-oriented ``Figure`` (rendered by the Agg canvas), never on pyplot's
global state, so that no display is needed and figures are freed when the function returns. Each
function takes the numbers that :mod:`artificial_genomes.metrics` computed and a path.
"""

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .fileio import atomic_path

DPI = 100
# The 1000 Genomes super-populations in the colours of its publications' figures, then others.
SUPER_POPULATION_COLOURS = {
    "AFR": "#e6b800",
    "AMR": "#d62728",
    "EAS": "#2ca02c",
    "EUR": "#1f77b4",
    "SAS": "#9467bd",
}
OTHER_COLOURS = ["#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
REAL_COLOUR = "#1f77b4"
TEST_COLOUR = "#7f7f7f"
AG_COLOUR = "#d62728"


def _save(fig: Figure, path) -> None:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)


def allele_frequency_scatter(train_af, ag_af, test_af, path, title: str = "") -> None:
    """ALT frequency of each site in the AGs (and in the test set) against the training set.

    Parameters
    ----------
    train_af, ag_af, test_af : numpy.ndarray, float, shape (n_variants,)
    path : str or path-like
        PNG to write.
    title : str
    """
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="black", lw=0.8, ls="--", zorder=0)
    ax.scatter(train_af, test_af, s=4, color=TEST_COLOUR, alpha=0.5, label="real test", lw=0)
    ax.scatter(train_af, ag_af, s=4, color=AG_COLOUR, alpha=0.6, label="AG", lw=0)
    ax.set_xlabel("ALT frequency, real training haplotypes")
    ax.set_ylabel("ALT frequency")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.legend(loc="upper left", markerscale=3, frameon=False)
    ax.set_title(title or "Allele frequencies")
    _save(fig, path)


def pca_scatter(
    train_scores, super_population, ag_scores, explained_variance_ratio, path, title: str = ""
) -> None:
    """Real training haplotypes on their first principal axes, coloured by super-population, with
    the AGs projected on top.

    Parameters
    ----------
    train_scores : numpy.ndarray, float, shape (n_train, n_components)
    super_population : numpy.ndarray, str, shape (n_train,)
        Label of each training haplotype (empty strings are drawn as "unknown").
    ag_scores : numpy.ndarray, float, shape (n_ag, n_components)
    explained_variance_ratio : numpy.ndarray, float, shape (n_components,)
    path : str or path-like
    title : str
    """
    n_panels = 2 if train_scores.shape[1] >= 4 else 1
    fig = Figure(figsize=(5.2 * n_panels, 5))
    axes = np.atleast_1d(fig.subplots(1, n_panels))
    labels = np.where(np.asarray(super_population) == "", "unknown", super_population)
    groups = sorted(set(labels.tolist()))
    colours = dict(SUPER_POPULATION_COLOURS)
    for k, group in enumerate(g for g in groups if g not in colours):
        colours[group] = OTHER_COLOURS[k % len(OTHER_COLOURS)]
    for panel, ax in enumerate(axes):
        x, y = 2 * panel, 2 * panel + 1
        if y >= train_scores.shape[1]:
            x, y = 0, min(1, train_scores.shape[1] - 1)
        for group in groups:
            rows = labels == group
            ax.scatter(
                train_scores[rows, x],
                train_scores[rows, y],
                s=9,
                alpha=0.6,
                color=colours[group],
                label=f"real {group}",
                lw=0,
            )
        ax.scatter(
            ag_scores[:, x],
            ag_scores[:, y],
            s=12,
            marker="o",
            facecolors="none",
            edgecolors="black",
            alpha=0.3,
            label="AG",
            lw=0.5,
        )
        ax.set_xlabel(f"PC{x + 1} ({100 * explained_variance_ratio[x]:.1f}%)")
        ax.set_ylabel(f"PC{y + 1} ({100 * explained_variance_ratio[y]:.1f}%)")
    axes[0].legend(loc="best", markerscale=2.5, fontsize=8, frameon=False)
    fig.suptitle(title or "PCA fitted on real training haplotypes")
    _save(fig, path)


def ld_decay_curves(edges, curves: dict, counts, path, title: str = "") -> None:
    """Mean r^2 by distance bin, one line per set.

    Parameters
    ----------
    edges : numpy.ndarray, float, shape (n_bins + 1,)
        Bin edges in base pairs.
    curves : dict of str to numpy.ndarray, float, shape (n_bins,)
        Label (e.g. ``"real train"``) to mean r^2 per bin.
    counts : numpy.ndarray, int, shape (n_bins,)
        Pairs per bin; bins without pairs are not drawn.
    path : str or path-like
    title : str
    """
    edges = np.asarray(edges, dtype=float)
    centres = np.sqrt(edges[:-1] * edges[1:])
    used = np.asarray(counts) > 0
    colours = {"real train": REAL_COLOUR, "real test": TEST_COLOUR, "AG": AG_COLOUR}
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    for label, values in curves.items():
        ax.plot(
            centres[used],
            np.asarray(values)[used],
            marker="o",
            ms=3,
            color=colours.get(label),
            label=label,
            ls="--" if label == "real test" else "-",
        )
    ax.set_xscale("log")
    ax.set_xlabel("distance between SNPs (bp)")
    ax.set_ylabel("mean r$^2$")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    ax.set_title(title or "LD decay")
    _save(fig, path)


def ld_heatmap(r2_real, r2_ag, path, title: str = "") -> None:
    """r^2 of a window of SNPs: real training haplotypes above the diagonal, AGs below.

    Parameters
    ----------
    r2_real, r2_ag : numpy.ndarray, float, shape (n_window, n_window)
    path : str or path-like
    title : str
    """
    r2_real = np.asarray(r2_real, dtype=float)
    combined = np.where(
        np.triu(np.ones_like(r2_real, dtype=bool), k=1), r2_real, np.asarray(r2_ag, dtype=float)
    )
    np.fill_diagonal(combined, np.nan)
    cmap = ListedColormap(_white_to_red(256)).with_extremes(bad="white")
    fig = Figure(figsize=(5.6, 5))
    ax = fig.subplots()
    image = ax.imshow(combined, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="r$^2$")
    ax.set_xlabel("SNP (upper triangle: real training)")
    ax.set_ylabel("SNP (lower triangle: AG)")
    ax.set_title(title or "LD (r$^2$)")
    _save(fig, path)


def three_point_panels(groups: dict, path, title: str = "") -> None:
    """Three-point correlations of SNP triplets in the AGs (and test set) against training, one
    panel per group of triplets (a gap, or random triplets).

    Parameters
    ----------
    groups : dict of str to tuple
        Group name (``"gap1"``, ..., ``"random"``) to ``(train_c3, ag_c3, test_c3, r_ag)``: three
        float arrays of shape (n_triplets,) and the AG correlation shown in the panel title
        (``None`` for a group of fewer than 2 triplets).
    path : str or path-like
    title : str
    """
    n_panels = max(1, len(groups))
    columns = min(3, n_panels)
    rows = -(-n_panels // columns)
    fig = Figure(figsize=(3.6 * columns, 3.5 * rows))
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for ax, (group, (train_c3, ag_c3, test_c3, r_ag)) in zip(axes, groups.items()):
        name = f"gap {group[3:]}" if group.startswith("gap") else group
        if r_ag is None:
            ax.set_axis_off()
            ax.text(
                0.5,
                0.5,
                f"{name}: fewer than 2 triplets\n(the contigs are too short)",
                ha="center",
                va="center",
                fontsize=9,
                transform=ax.transAxes,
            )
            continue
        values = np.concatenate([train_c3, ag_c3, test_c3])
        low, high = float(values.min()), float(values.max())
        ax.plot([low, high], [low, high], color="black", lw=0.8, ls="--", zorder=0)
        ax.scatter(train_c3, test_c3, s=3, color=TEST_COLOUR, alpha=0.4, label="real test", lw=0)
        ax.scatter(train_c3, ag_c3, s=3, color=AG_COLOUR, alpha=0.4, label="AG", lw=0)
        ax.set_title(f"{name}: r = {r_ag:.3f} ({len(train_c3)} triplets)", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(groups) :]:
        ax.set_axis_off()
    drawn = [ax for ax in axes if ax.axison]
    if drawn:
        drawn[0].legend(loc="upper left", markerscale=3, frameon=False, fontsize=8)
    fig.supxlabel("3-point correlation, real training haplotypes", fontsize=9)
    fig.supylabel("3-point correlation", fontsize=9)
    fig.suptitle(title or "Three-point correlations")
    _save(fig, path)


def site_frequency_spectrum(
    edges, spectra: dict, classes: dict, n: int, rare_frequency: float, path, title: str = ""
) -> None:
    """Folded site frequency spectra on doubling classes, and sites by frequency class.

    Parameters
    ----------
    edges : numpy.ndarray, int, shape (n_classes + 1,)
        Minor-allele-count class edges (:func:`artificial_genomes.metrics.frequency_class_edges`).
    spectra : dict of str to numpy.ndarray, float, shape (n_classes,)
        Label (``"real train"``, ``"real test"``, ``"AG"``) to the number of sites per class.
    classes : dict of str to dict
        Label to :func:`artificial_genomes.metrics.rare_variant_counts` of that set.
    n : int
        Haplotype count every spectrum was projected to.
    rare_frequency : float
    path : str or path-like
    title : str
    """
    colours = {"real train": REAL_COLOUR, "real test": TEST_COLOUR, "AG": AG_COLOUR}
    edges = np.asarray(edges)
    fig = Figure(figsize=(11, 4.3))
    left, right = fig.subplots(1, 2)
    polymorphic = edges[:-1] >= 1
    x = np.arange(np.count_nonzero(polymorphic))
    for label, values in spectra.items():
        left.plot(
            x,
            np.maximum(np.asarray(values)[polymorphic], 0.1),
            marker="o",
            ms=4,
            color=colours.get(label),
            ls="--" if label == "real test" else "-",
            label=label,
        )
    names = [
        f"{lo}" if hi - lo == 1 else f"{lo}-{hi - 1}"
        for lo, hi in zip(edges[:-1][polymorphic], edges[1:][polymorphic])
    ]
    left.set_xticks(x, names, rotation=45, ha="right", fontsize=7)
    left.set_yscale("log")
    left.set_xlabel(f"minor allele count in {n} haplotypes")
    left.set_ylabel("sites (expected, projected)")
    left.legend(frameon=False)
    left.set_title("folded spectrum")
    kinds = [
        ("singletons", "singletons"),
        ("rare", f"MAF < {100 * rare_frequency:g}%"),
        ("common", f"MAF >= {100 * rare_frequency:g}%"),
        ("monomorphic", "monomorphic"),
    ]
    width = 0.8 / max(1, len(classes))
    for offset, (label, counts) in enumerate(classes.items()):
        position = np.arange(len(kinds)) + (offset - (len(classes) - 1) / 2) * width
        heights = [counts[key] for key, _ in kinds]
        bars = right.bar(position, heights, width, color=colours.get(label), label=label)
        right.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)
    right.set_xticks(np.arange(len(kinds)), [name for _, name in kinds])
    right.set_ylabel("sites")
    right.legend(frameon=False)
    right.set_title(f"sites by frequency class ({n} haplotypes)")
    fig.suptitle(title or "Site frequency spectrum")
    _save(fig, path)


def population_structure(summary, level, path, title: str = "") -> None:
    """Share of haplotypes per population label, and Hudson F_ST of each population's AGs.

    Parameters
    ----------
    summary : dict or None
        One level of the ``structure`` entry of ``metrics.json``: ``groups``, ``share_train``,
        ``share_test_knn``, ``share_ag``, ``fst_ag``, ``fst_test`` (lists, one value per group,
        ``None`` where undefined). ``None`` draws a figure saying there are no labels.
    level : str or None
        ``"super_population"`` or ``"population"``.
    path : str or path-like
    title : str
    """
    if not summary:
        fig = Figure(figsize=(6, 2))
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no population labels in the real data", ha="center", va="center")
        _save(fig, path)
        return
    groups = summary["groups"]
    x = np.arange(len(groups))
    fig = Figure(figsize=(min(16, max(9, 0.6 * len(groups) + 3)), 4.3))
    left, right = fig.subplots(1, 2)
    bars = [
        ("share_train", "real train (true labels)", REAL_COLOUR),
        ("share_test_knn", "real test (k-NN labels)", TEST_COLOUR),
        ("share_ag", "AG (k-NN labels)", AG_COLOUR),
    ]
    width = 0.8 / len(bars)
    for offset, (key, name, colour) in enumerate(bars):
        left.bar(x + (offset - 1) * width, summary[key], width, color=colour, label=name)
    left.set_xticks(x, groups, rotation=90 if len(groups) > 8 else 0, fontsize=8)
    left.set_ylabel("share of haplotypes")
    left.legend(frameon=False, fontsize=8)
    left.set_title(f"haplotypes per {level.replace('_', '-')}")
    for offset, (key, name, colour) in enumerate(
        [("fst_test", "real test labelled P", TEST_COLOUR), ("fst_ag", "AG labelled P", AG_COLOUR)]
    ):
        values = np.array([np.nan if v is None else v for v in summary[key]], dtype=float)
        right.bar(x + (offset - 0.5) * 0.4, np.nan_to_num(values), 0.4, color=colour, label=name)
        for position in x[np.isnan(values)]:
            right.text(
                position + (offset - 0.5) * 0.4,
                0,
                "x",
                ha="center",
                va="bottom",
                color=colour,
                fontsize=8,
            )
    right.axhline(0, color="black", lw=0.8)
    right.set_xticks(x, groups, rotation=90 if len(groups) > 8 else 0, fontsize=8)
    right.set_ylabel("Hudson F$_{ST}$ vs real training haplotypes of P")
    right.legend(frameon=False, fontsize=8)
    right.set_title("differentiation within each label (x: fewer than 2 haplotypes)", fontsize=9)
    fig.suptitle(title or "Population structure")
    _save(fig, path)


def membership_inference(dcr_train, dcr_test, fpr, tpr, auc, path, title: str = "") -> None:
    """Distance of training (members) and test (non-members) haplotypes to their nearest AG, and
    the ROC curve of the attack that calls the closer ones members.

    Parameters
    ----------
    dcr_train : numpy.ndarray, int, shape (n_train,)
    dcr_test : numpy.ndarray, int, shape (n_test,)
    fpr, tpr : numpy.ndarray, float, shape (n_points,)
        From :func:`artificial_genomes.metrics.roc_curve`.
    auc : float
    path : str or path-like
    title : str
    """
    fig = Figure(figsize=(10, 4.2))
    left, right = fig.subplots(1, 2)
    for values, colour, name in (
        (dcr_train, REAL_COLOUR, "training haplotypes (members)"),
        (dcr_test, TEST_COLOUR, "test haplotypes (non-members)"),
    ):
        x = np.sort(np.asarray(values))
        left.step(x, np.arange(1, x.size + 1) / x.size, where="post", color=colour, label=name)
    left.set_xscale("symlog", linthresh=1)
    left.set_xlim(left=0)
    left.set_ylim(0, 1.02)
    left.set_xlabel("Hamming distance to nearest AG (SNPs)")
    left.set_ylabel("cumulative share")
    left.legend(loc="lower right", frameon=False, fontsize=8)
    left.set_title("distance to closest AG")
    right.plot([0, 1], [0, 1], color="black", lw=0.8, ls="--")
    right.plot(fpr, tpr, color=AG_COLOUR, lw=1.5, label=f"AUC = {auc:.3f}")
    right.set_xlim(0, 1)
    right.set_ylim(0, 1)
    right.set_aspect("equal")
    right.set_xlabel("false-positive rate (test called member)")
    right.set_ylabel("true-positive rate (training called member)")
    right.legend(loc="lower right", frameon=False)
    right.set_title("ROC of the distance-to-closest-AG attack")
    fig.suptitle(title or "Membership inference")
    _save(fig, path)


def hamming_histograms(within_real, within_ag, between, path, title: str = "") -> None:
    """Distributions of pairwise Hamming distances within real, within AG and between the two.

    Parameters
    ----------
    within_real, within_ag, between : numpy.ndarray, int, shape (n_pairs,)
    path : str or path-like
    title : str
    """
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    high = max(int(np.max(x)) if len(x) else 0 for x in (within_real, within_ag, between))
    bins = np.linspace(0, high + 1, min(high + 2, 80))
    style = {"histtype": "step", "density": True, "bins": bins, "lw": 1.5}
    ax.hist(within_real, color=REAL_COLOUR, label="within real (train)", **style)
    ax.hist(within_ag, color=AG_COLOUR, label="within AG", **style)
    ax.hist(between, color="black", ls="--", label="AG vs real", **style)
    ax.set_xlabel("Hamming distance (SNPs)")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    ax.set_title(title or "Pairwise haplotype distances")
    _save(fig, path)


def nearest_neighbour_histograms(nn_ag_train, nn_test_train, path, title: str = "") -> None:
    """Distance of each AG, and of each real test haplotype, to its nearest training haplotype.

    Parameters
    ----------
    nn_ag_train : numpy.ndarray, int, shape (n_ag,)
    nn_test_train : numpy.ndarray, int, shape (n_test,)
    path : str or path-like
    title : str
    """
    fig = Figure(figsize=(6, 4.2))
    ax = fig.subplots()
    high = int(max(np.max(nn_ag_train), np.max(nn_test_train)))
    bins = np.arange(0, high + 2) - 0.5 if high < 80 else np.linspace(0, high + 1, 80)
    style = {"histtype": "step", "density": True, "bins": bins, "lw": 1.5}
    ax.hist(nn_test_train, color=TEST_COLOUR, label="real test -> train", **style)
    ax.hist(nn_ag_train, color=AG_COLOUR, label="AG -> train", **style)
    ax.set_xlabel("Hamming distance to nearest training haplotype (SNPs)")
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    ax.set_title(title or "Nearest-neighbour distances")
    _save(fig, path)


def _white_to_red(n):
    t = np.linspace(0, 1, n)[:, None]
    white = np.array([1.0, 1.0, 1.0, 1.0])
    red = np.array([0.70, 0.0, 0.0, 1.0])
    return white * (1 - t) + red * t
