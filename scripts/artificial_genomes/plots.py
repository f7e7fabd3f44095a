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


def three_point_scatter(train_c3, ag_c3, test_c3, path, title: str = "") -> None:
    """Three-point correlation of each SNP triplet in the AGs (and test set) against training.

    Parameters
    ----------
    train_c3, ag_c3, test_c3 : numpy.ndarray, float, shape (n_triplets,)
    path : str or path-like
    title : str
    """
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    values = np.concatenate([train_c3, ag_c3, test_c3])
    low, high = (float(values.min()), float(values.max())) if values.size else (-1.0, 1.0)
    ax.plot([low, high], [low, high], color="black", lw=0.8, ls="--", zorder=0)
    ax.scatter(train_c3, test_c3, s=4, color=TEST_COLOUR, alpha=0.5, label="real test", lw=0)
    ax.scatter(train_c3, ag_c3, s=4, color=AG_COLOUR, alpha=0.5, label="AG", lw=0)
    ax.set_xlabel("3-point correlation, real training haplotypes")
    ax.set_ylabel("3-point correlation")
    ax.legend(loc="upper left", markerscale=3, frameon=False)
    ax.set_title(title or "Three-point correlations")
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
