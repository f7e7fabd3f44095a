"""The ``report`` step: one self-contained HTML page comparing every model of a dataset.

The page needs no network and no other file: styles are inline and every figure is embedded as a
base64 ``data:`` URI. Next to it goes a tab-separated table of all scalar metrics (models x
metrics) for further analysis.
"""

import base64
import html
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from .errors import InputError
from .evaluate import FIGURES
from .fileio import atomic_path

log = logging.getLogger(__name__)

YARDSTICK = "real test vs train"

TIP_AA_TRUTH = "share of real haplotypes whose nearest AG is farther than their nearest real one"
TIP_AA_SYN = "share of AGs whose nearest real haplotype is farther than their nearest AG"
TIP_COPIES = "AGs identical to a training haplotype (yardstick: test haplotypes identical to one)"
TIP_LD_DECAY = "mean |AG - real| of the mean r^2 over distance bins"
TIP_R2 = "correlation of pairwise r^2 with the real training set over SNP pairs within 200 SNPs"
TIP_THREE_POINT = (
    "correlation of the connected three-point correlations of SNP triplets (i, i+g, i+2g) with the "
    "real training set, averaged over the gaps g = 1, 4, 16, 64, 256 and random triplets"
)
TIP_PCA = (
    "Wasserstein-1 distance to the training cloud on the leading PCs, in PC standard deviations"
)
TIP_PCA_EMD = (
    "optimal-transport (earth mover's) distance to the training cloud in the PC1-PC2 plane, in PC "
    "standard deviations, on equal-size random subsets"
)
TIP_HAMMING = (
    "Wasserstein-1 distance between within-AG and within-real pairwise Hamming distances (SNPs)"
)
TIP_SFS = (
    "total variation distance between the folded site frequency spectra (doubling classes), all "
    "sets projected to the same number of haplotypes"
)
TIP_SINGLETONS = "singleton sites in the AGs / in the real training set, at equal haplotype counts"
TIP_RARE = "sites with MAF < 1% in the AGs / in the real training set, at equal haplotype counts"
TIP_FST = (
    "mean over populations P of Hudson's F_ST between the real training haplotypes of P and the AGs "
    "labelled P by their nearest training haplotypes"
)
TIP_SHARES = (
    "total variation distance between the share of AGs labelled with each population and the "
    "real training shares"
)
TIP_NN_RATIO = (
    "mean distance of AGs to their nearest training haplotype / that of the real test haplotypes"
)
TIP_MIA = (
    "AUC of a membership-inference attack that calls a real haplotype a training member when an "
    "AG lies close to it (0.5: no information)"
)

# Summary table columns, in families; best value: "max", "min", "half" (closest to 0.5), "zero"
# or "one".
COLUMN_FAMILIES = [
    (
        "Allele frequencies",
        [
            # (metrics.json key, yardstick key or None, header, best value, what it measures)
            ("af_r_train", "af_r", "AF r", "max", "Pearson r of ALT frequencies, AG vs training"),
            ("af_rmse_train", "af_rmse", "AF RMSE", "min", "root-mean-square AF difference"),
            ("sfs_distance", "sfs_distance", "SFS TV", "min", TIP_SFS),
            ("singleton_ratio", "singleton_ratio", "singletons", "one", TIP_SINGLETONS),
            ("rare_ratio", "rare_ratio", "rare", "one", TIP_RARE),
        ],
    ),
    (
        "Population structure",
        [
            ("pca_w1_train", "pca_w1", "PCA W<sub>1</sub>", "min", TIP_PCA),
            ("pca_emd_train", "pca_emd", "PC1-2 EMD", "min", TIP_PCA_EMD),
            ("fst_ag", "fst_ag", "F<sub>ST</sub>", "zero", TIP_FST),
            ("population_share_tv", "population_share_tv", "pop. shares TV", "min", TIP_SHARES),
        ],
    ),
    (
        "LD and higher order",
        [
            ("ld_decay_error", "ld_decay_error", "LD-decay error", "min", TIP_LD_DECAY),
            ("r2_correlation", "r2_correlation", "r<sup>2</sup> corr.", "max", TIP_R2),
            ("three_point_r", "three_point_r", "3-point r", "max", TIP_THREE_POINT),
        ],
    ),
    (
        "Distances",
        [("hamming_w1", "hamming_w1", "distance W<sub>1</sub>", "min", TIP_HAMMING)],
    ),
    (
        "Adversarial accuracy",
        [
            ("aats_train", "aats", "AATS train", "half", "adversarial accuracy vs training"),
            ("aa_truth_train", "aa_truth", "AA<sub>truth</sub> train", "half", TIP_AA_TRUTH),
            ("aa_syn_train", "aa_syn", "AA<sub>syn</sub> train", "half", TIP_AA_SYN),
            ("aats_test", None, "AATS test", "half", "adversarial accuracy vs held-out test set"),
            ("aa_truth_test", None, "AA<sub>truth</sub> test", "half", "as above, vs the test set"),
            ("aa_syn_test", None, "AA<sub>syn</sub> test", "half", "as above, vs the test set"),
        ],
    ),
    (
        "Privacy",
        [
            ("privacy_loss", None, "privacy loss", "zero", "AATS test - AATS train (0 is private)"),
            ("exact_copies_train", "exact_copies", "exact copies", "min", TIP_COPIES),
            ("nn_distance_ratio", None, "NN distance ratio", "one", TIP_NN_RATIO),
            ("mia_auc", None, "MIA AUC", "half", TIP_MIA),
        ],
    ),
]
COLUMNS = [column for _, columns in COLUMN_FAMILIES for column in columns]

# How to read each figure: one sentence each. report/figure.rst (the captions of
# `snakemake --report`) repeats them; tests/test_report.py keeps the two in step.
AF_HOW = (
    "Each dot is a SNP: its ALT frequency in the AGs (red) or in the real test haplotypes (grey) "
    "against the training haplotypes; dots on the diagonal are reproduced exactly."
)
SFS_HOW = (
    "Sites per minor-allele-count class with every set projected to the same number of "
    "haplotypes (left), and the numbers of singleton, rare, common and monomorphic sites (right); "
    "an AG curve or bar below the real ones at the rare end means the generator lost rare alleles."
)
PCA_HOW = (
    "Real training haplotypes on their own principal axes, coloured by super-population, with the "
    "AGs projected onto the same axes as open black circles; AGs should cover the same clusters in "
    "the same proportions, neither collapsing onto a few nor falling between them."
)
STRUCTURE_HOW = (
    "Every AG and every real test haplotype takes the majority population label of its nearest "
    "training haplotypes (Hamming distance): the AG shares (left) should match the real ones, and "
    "the Hudson F_ST between the real training haplotypes of each population and the AGs labelled "
    "with it (right) should be as close to 0 as that of the test haplotypes."
)
LD_DECAY_HOW = (
    "Mean r^2 of SNP pairs by physical distance (log scale); the AG curve should follow the real "
    "training and test curves, lying below them where LD is lost."
)
LD_HEATMAP_HOW = (
    "r^2 between the SNPs of one window: real training haplotypes above the diagonal, AGs below; "
    "a good model mirrors the block pattern across the diagonal."
)
THREE_POINT_HOW = (
    "Each dot is a SNP triplet (i, i+g, i+2g), one panel per gap g, or a random triplet, with its "
    "connected three-point correlation (the part of the joint distribution that pairwise LD does "
    "not explain) in the AGs (red) or the real test haplotypes (grey) against the training "
    "haplotypes; dots on the diagonal mean higher-order structure is reproduced."
)
HAMMING_HOW = (
    "Distributions of Hamming distances between pairs of haplotypes within the real training set, "
    "within the AGs and between AGs and real; matching shapes mean the AGs are as diverse as real "
    "haplotypes, a narrower within-AG peak means too little diversity."
)
NN_HOW = (
    "Distance from each AG (red) and each real test haplotype (grey) to its nearest training "
    "haplotype; AGs piled at 0 are copies of training haplotypes, AGs well to the right of the "
    "grey curve are farther from real people than real people are from each other."
)
MIA_HOW = (
    "An attacker calls a real haplotype a training member when an AG lies close to it: the "
    "members' distances to their nearest AG (blue) should look like the non-members' (grey), and "
    "a ROC curve on the diagonal (AUC 0.5) means the AGs do not reveal who was in the training set."
)
# Sections of the page: heading and (figure key, how to read it) pairs.
SECTIONS = [
    ("Allele frequencies", [("af_scatter", AF_HOW), ("sfs", SFS_HOW)]),
    ("Population structure", [("pca", PCA_HOW), ("structure", STRUCTURE_HOW)]),
    ("Linkage disequilibrium", [("ld_decay", LD_DECAY_HOW), ("ld_heatmap", LD_HEATMAP_HOW)]),
    ("Three-point correlations", [("three_point", THREE_POINT_HOW)]),
    ("Haplotype distances", [("hamming", HAMMING_HOW)]),
    ("Privacy", [("nearest_neighbour", NN_HOW), ("membership_inference", MIA_HOW)]),
]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1400px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; font-size: 0.88em; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
td.best { background: #e3f4e1; font-weight: bold; }
tr.yardstick td { background: #f7f7fb; font-style: italic; color: #444; }
.figures { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; flex: 1 1 420px; max-width: 700px; }
figure img { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { text-align: center; font-weight: bold; }
.scroll { overflow-x: auto; } th.family { background: #e8e8ee; text-align: center; }
p.how { color: #444; max-width: 70em; } .missing { color: #a00; }
dl { font-size: 0.9em; max-width: 70em; } dt { font-weight: bold; margin-top: 0.4em; }
"""


def write_report(
    dataset: str,
    evaluations: dict[str, str],
    html_out,
    title: str | None = None,
    tsv_out=None,
) -> None:
    """Write the HTML report of one dataset and its table of metrics.

    Parameters
    ----------
    dataset : str
        Dataset name (shown in the title).
    evaluations : dict of str to str
        Model name to the folder holding that model's ``metrics.json`` and figures (the figures
        are found through the paths recorded in ``metrics.json``, or in the folder itself or its
        ``figures/`` subfolder).
    html_out : str or path-like
        HTML page to write (atomically).
    title : str, optional
        Page title; defaults to "Artificial genomes: <dataset>".
    tsv_out : str or path-like, optional
        Table of all scalar metrics (one row per model plus the yardstick row); defaults to
        ``metrics.tsv`` next to ``html_out``.
    """
    if not evaluations:
        raise InputError(f"no evaluations given for dataset {dataset!r}", "evaluate a model first")
    results = {model: _load_metrics(model, folder) for model, folder in evaluations.items()}
    title = title or f"Artificial genomes: {dataset}"
    html_out = Path(html_out)
    tsv_out = Path(tsv_out) if tsv_out is not None else html_out.parent / "metrics.tsv"

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        _overview(dataset, results),
        "<h2>Summary</h2>",
        _summary_table(results),
        _glossary(),
    ]
    for heading, figures in SECTIONS:
        parts.append(f"<h2>{_e(heading)}</h2>")
        for key, how in figures:
            parts.append(f'<p class="how">{_e(how)}</p>')
            parts.append(_figure_row(key, results, evaluations))
            if key == "structure":
                parts.append(_structure_table(results))
    parts.append("</body></html>")
    with atomic_path(html_out) as tmp:
        tmp.write_text("\n".join(parts) + "\n", encoding="utf-8")
    with atomic_path(tsv_out) as tmp:
        tmp.write_text(_tsv(results), encoding="utf-8")
    log.info("report of %d models written to %s, table to %s", len(results), html_out, tsv_out)


def _load_metrics(model, folder):
    path = Path(folder) / "metrics.json"
    if not path.is_file():
        raise InputError(
            f"no metrics.json for model {model!r} in {folder}",
            "run the evaluate step of that model",
        )
    result = json.loads(path.read_text())
    result["_folder"] = str(folder)
    return result


def _overview(dataset, results):
    first = next(iter(results.values()))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    counts = ", ".join(f"{_e(m)}: {r.get('n_ag', '?')} AGs" for m, r in results.items())
    return (
        f'<p class="meta">Dataset <b>{_e(dataset)}</b>: {first.get("n_variants", "?")} SNPs, '
        f"{first.get('n_train', '?')} training and {first.get('n_test', '?')} held-out test "
        f"haplotypes. Models: {counts}. Generated {generated}.</p>"
    )


def _best(values, rule):
    scored = {}
    for model, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            scored[model] = {
                "max": -value,
                "min": value,
                "half": abs(value - 0.5),
                "zero": abs(value),
                "one": abs(value - 1),
            }[rule]
    if not scored:
        return set()
    top = min(scored.values())
    return {m for m, s in scored.items() if abs(s - top) <= 1e-12}


def _summary_table(results):
    families = "".join(
        f'<th colspan="{len(columns)}" class="family">{_e(family)}</th>'
        for family, columns in COLUMN_FAMILIES
    )
    head = "".join(f'<th title="{_e(tip)}">{label}</th>' for _, _, label, _, tip in COLUMNS)
    top = f'<tr><th rowspan="2">model</th><th rowspan="2">AGs</th>{families}</tr>'
    rows = [f'<div class="scroll"><table><thead>{top}<tr>{head}</tr></thead><tbody>']
    best = {
        key: _best({m: r.get(key) for m, r in results.items()}, rule)
        for key, _, _, rule, _ in COLUMNS
    }
    for model, result in results.items():
        cells = [f"<td>{_e(model)}</td>", f"<td>{_fmt(result.get('n_ag'))}</td>"]
        for key, _, _, _, _ in COLUMNS:
            value = _cell(key, result.get(key), result.get("n_ag"))
            cls = ' class="best"' if model in best[key] and len(results) > 1 else ""
            cells.append(f"<td{cls}>{value}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    yardstick = next(iter(results.values())).get("yardstick", {})
    if yardstick:
        cells = [
            f"<td>{_e(YARDSTICK)}</td>",
            f"<td>{_fmt(next(iter(results.values())).get('n_test'))}</td>",
        ]
        for key, yard_key, _, _, _ in COLUMNS:
            value = yardstick.get(yard_key) if yard_key else None
            n = next(iter(results.values())).get("n_test")
            cells.append(f"<td>{_cell(key, value, n) if yard_key else '&ndash;'}</td>")
        rows.append(f'<tr class="yardstick">{"".join(cells)}</tr>')
    rows.append("</tbody></table></div>")
    rows.append(
        '<p class="meta">Green: best model in the column (AATS, AA and MIA AUC closest to 0.5, '
        "privacy loss and F<sub>ST</sub> closest to 0, ratios closest to 1). The last row "
        "measures the real held-out test haplotypes against the training haplotypes: the values "
        "that new real people reach. Hover over a column header for its definition.</p>"
    )
    return "\n".join(rows)


def _structure_table(results):
    """Per population: real shares, and each model's AG share and F_ST (HTML table)."""
    first = next(iter(results.values())).get("structure") or {}
    level = first.get("level")
    if not level:
        return '<p class="meta">No population labels in the real data.</p>'
    reference = first["levels"][level]
    groups = reference["groups"]
    head = ["<th>" + _e(level.replace("_", "-")) + "</th>", "<th>real train share</th>"]
    head += ["<th>real test share (k-NN)</th>", "<th>F<sub>ST</sub> real test (k-NN)</th>"]
    columns = []
    for model, result in results.items():
        levels = (result.get("structure") or {}).get("levels", {})
        summary = levels.get(level)
        if summary is None or summary["groups"] != groups:
            continue
        head += [f"<th>{_e(model)} share</th>", f"<th>{_e(model)} F<sub>ST</sub></th>"]
        columns.append(summary)
    rows = [f'<div class="scroll"><table><thead><tr>{"".join(head)}</tr></thead><tbody>']
    for g, group in enumerate(groups):
        cells = [
            _e(group),
            _fmt(reference["share_train"][g]),
            _fmt(reference["share_test_knn"][g]),
            _fmt(reference["fst_test"][g]),
        ]
        for summary in columns:
            cells += [_fmt(summary["share_ag"][g]), _fmt(summary["fst_ag"][g])]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    rows.append("</tbody></table></div>")
    k = first.get("k", "?")
    rows.append(
        f'<p class="meta">Labels by a vote of the {k} nearest training haplotypes in Hamming '
        "distance; F<sub>ST</sub>: Hudson's, between the real training haplotypes of the "
        "population and the haplotypes labelled with it (&ndash; where fewer than 2 carry the "
        f"label). k-NN labels of the test haplotypes match their true labels for "
        f"{_fmt(reference.get('knn_accuracy_test'))} of them.</p>"
    )
    return "\n".join(rows)


def _glossary():
    items = "".join(f"<dt>{label}</dt><dd>{_e(tip)}</dd>" for _, _, label, _, tip in COLUMNS)
    return (
        "<details><summary>What the columns mean</summary><dl>" + items + "</dl>"
        '<p class="meta">Adversarial accuracy (Yale et al. 2020) uses Hamming distances between '
        "equal-size random subsets of the two sets and a strict '&gt;' (ties count as not "
        "separable). AATS above 0.5: AGs are distinguishable from real haplotypes; below 0.5: "
        "they sit closer to the training haplotypes than these sit to each other. In regions "
        "where many people share identical haplotypes even real vs real scores below 0.5 "
        "(see the yardstick row).</p></details>"
    )


def _figure_row(key, results, evaluations):
    cells = []
    for model, result in results.items():
        path = _find_figure(key, result, evaluations[model])
        if path is None:
            log.warning("figure %s of model %s not found", key, model)
            body = '<p class="missing">figure missing</p>'
        else:
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            body = f'<img alt="{_e(key)} of {_e(model)}" src="data:image/png;base64,{data}">'
        cells.append(f"<figure><figcaption>{_e(model)}</figcaption>{body}</figure>")
    return f'<div class="figures">{"".join(cells)}</div>'


def _find_figure(key, result, folder):
    folder = Path(folder)
    candidates = []
    recorded = result.get("figures", {}).get(key)
    if recorded:
        candidates.append(folder / recorded)
    name = FIGURES[key]
    candidates += [folder / name, folder / "figures" / name]
    return next((p for p in candidates if p.is_file()), None)


def _tsv(results):
    keys = [c[0] for c in COLUMNS]
    for result in results.values():
        for key, value in result.items():
            if key not in keys and key not in ("model", "_folder") and _is_scalar(value):
                keys.append(key)
    lines = ["\t".join(["model", *keys])]
    for model, result in results.items():
        lines.append("\t".join([model, *(_tsv_value(result.get(k)) for k in keys)]))
    yardstick = next(iter(results.values())).get("yardstick", {})
    if yardstick:
        mapped = {key: yardstick.get(yard) for key, yard, *_ in COLUMNS if yard}
        mapped.update(
            {key: value for key, value in yardstick.items() if key.startswith("three_point_r_")}
        )
        mapped.update(
            n_train=next(iter(results.values())).get("n_train"),
            n_variants=next(iter(results.values())).get("n_variants"),
        )
        lines.append("\t".join([YARDSTICK, *(_tsv_value(mapped.get(k)) for k in keys)]))
    return "\n".join(lines) + "\n"


def _is_scalar(value):
    return value is None or isinstance(value, str | int | float | bool)


def _tsv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("\t", " ")


def _cell(key, value, n):
    if key.startswith("exact_copies") and isinstance(value, int | float) and n:
        return f"{int(value)} ({100 * value / n:.1f}%)"
    return _fmt(value)


def _fmt(value):
    if value is None:
        return "&ndash;"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.001:
            return f"{value:.1e}"
        if 0.99 < abs(value) < 1:
            return f"{value:.4f}"
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return _e(str(value))


def _e(text):
    return html.escape(str(text), quote=True)
