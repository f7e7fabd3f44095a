"""Benchmark our models against the artificial genomes published with Yelmen et al. 2021.

On the 805-SNP dataset of the paper (``yelmen805``: 802 polymorphic SNPs, 2504 individuals split
80/20 into train and test by the workflow's own encode step), each model is trained on the
training split, 5000 AGs are drawn, and the AGs are evaluated against the training and the test
split with the workflow's own code (``training.train``, ``sampling.run_sample``,
``evaluate.run_evaluate``). The AGs published with the paper (GAN 20,000 epochs, RBM 800 epochs)
are imported and evaluated the same way, and the real test haplotypes against the real training
ones give the yardstick row. One table is printed:

    model  epochs  AATS  AA_truth  AA_syn  AATS_test  privacy_loss  exact_copies  AF_r
    r2_band  r2_all  train_s  sample_s  s/epoch

``AATS``, ``AA_truth``, ``AA_syn`` are against the training split; ``privacy_loss`` is AATS against
the test split minus AATS against the training split; ``exact_copies`` counts AGs identical to a
training haplotype; ``AF_r`` is the Pearson r of the ALT frequencies with the training split.
``r2_band`` is the evaluate step's ``r2_correlation`` (r^2 of each SNP with its next 200 SNPs on
the same chromosome); ``r2_all`` correlates the r^2 of *all* SNP pairs (the whole 802 x 802 matrix,
across chromosomes too), the number quoted for the published AGs (GAN 0.924, RBM 0.977), because on
SNPs spread over the genome most of the LD that population structure creates lies between
chromosomes.

Settings come from the same config files the workflow reads (``config/config.yaml`` overlaid
with ``config/benchmark_yelmen805.yaml``, merged as ``snakemake --configfile`` merges them), so
that, with the same seed and threads, the table has the numbers of

    snakemake --cores 2 --configfile config/benchmark_yelmen805.yaml results/report/yelmen805.html

Run from the repository root (nice it on a shared machine):

    nice -n 19 python benchmarks/yelmen805.py                     # the config's settings
    python benchmarks/yelmen805.py --models rbm --epochs rbm=50 --threads 2
    python benchmarks/yelmen805.py --budget rbm=1800 --budget gan=1800   # seconds of training
    python benchmarks/yelmen805.py --set rbm.n_hidden=1000 --out results_bench/

``--budget MODEL=SECONDS`` first times a probe of a few epochs (in a scratch folder), then trains
the model from scratch for as many epochs as fit in the budget at that speed; the table reports
the epochs trained (they depend on the machine and its load). ``--max-individuals`` keeps a random
subset of individuals (for a quick smoke run).
"""

import argparse
import copy
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASET = "yelmen805"
DEFAULT_CONFIGS = (ROOT / "config" / "config.yaml", ROOT / "config" / "benchmark_yelmen805.yaml")
# Epochs of the probe that times a model before a --budget run.
PROBE_EPOCHS = 3
COLUMNS = (
    "model", "epochs", "AATS", "AA_truth", "AA_syn", "AATS_test", "privacy_loss", "exact_copies",
    "AF_r", "r2_band", "r2_all", "train_s", "sample_s", "s/epoch",
)  # fmt: skip
# Models trained by epochs (the baselines are fitted at once).
EPOCH_MODELS = ("gan", "rbm")


def merged_config(paths) -> dict:
    """The config the workflow sees with ``configfile: paths[0]`` and ``--configfile paths[1:]``.

    Mappings are merged key by key, recursively; any other value (lists included) of a later
    file replaces the earlier one, as Snakemake's ``update_config`` does.

    Parameters
    ----------
    paths : sequence of path
        YAML files, the workflow's own first.

    Returns
    -------
    dict
    """
    import yaml

    config: dict = {}
    for path in paths:
        with open(path) as handle:
            _update(config, yaml.safe_load(handle) or {})
    return config


def _update(base: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _update(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def model_settings(config: dict, model: str, dataset: str = DATASET) -> dict:
    """Settings of ``model`` on ``dataset`` as the workflow computes them (``rules/common.smk``).

    The top-level ``model_settings`` of the model, then the dataset's own; ``preset: published``
    ignores both for the networks (their defaults are the 2021 settings) and keeps the baselines'.
    """
    if config.get("preset", "default") == "published" and model in EPOCH_MODELS:
        return {}
    settings = copy.deepcopy(config.get("model_settings", {}).get(model) or {})
    settings.update(config["datasets"][dataset].get("model_settings", {}).get(model) or {})
    return settings


def build_dataset(config: dict, workdir: Path, dataset: str = DATASET) -> Path:
    """Run the workflow's download, subset and encode steps for ``dataset`` into ``workdir``.

    Returns
    -------
    Path
        ``workdir/haplotypes.npz`` (the :class:`HaplotypeSet` with its train/test split).
    """
    from artificial_genomes.download import fetch_source
    from artificial_genomes.encode import encode
    from artificial_genomes.subset import subset_vcf

    ds = config["datasets"][dataset]
    source = {k: str(ROOT / v) if k in ("vcf", "panel") else v for k, v in ds["source"].items()}
    fetch_source(
        source, ds.get("region"), config.get("releases", {}),
        workdir / "source.vcf.gz", workdir / "panel.tsv",
    )  # fmt: skip
    subset_vcf(
        workdir / "source.vcf.gz", workdir / "panel.tsv", workdir / "subset.bcf",
        region=ds.get("region"),
        populations=ds.get("populations", []),
        super_populations=ds.get("super_populations", []),
        min_maf=ds.get("min_maf", config.get("min_maf", 0.0)),
        max_missing=ds.get("max_missing", config.get("max_missing", 0.0)),
        min_haplotypes=config.get("min_haplotypes", 20),
        unphased=ds.get("unphased", config.get("unphased", "refuse")),
    )  # fmt: skip
    split = config.get("split", {})
    npz = workdir / "haplotypes.npz"
    encode(
        workdir / "subset.bcf", workdir / "panel.tsv", npz, workdir / "split.tsv",
        test_fraction=split.get("test_fraction", 0.2), seed=split.get("seed", 42),
        meta={"dataset": dataset},
    )  # fmt: skip
    return npz


def keep_individuals(npz_in, npz_out, n_individuals: int, seed: int = 0) -> Path:
    """Write a copy of a :class:`HaplotypeSet` with ``n_individuals`` random individuals.

    Their split labels are kept, so about the same train/test shares remain. Sites are not
    filtered (a site may become monomorphic).

    Returns
    -------
    Path
        ``npz_out``.
    """
    import numpy as np

    from artificial_genomes.haplotypes import HaplotypeSet

    data = HaplotypeSet.load(npz_in)
    n = data.samples.size
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(n, size=min(n_individuals, n), replace=False))
    rows = np.stack([2 * keep, 2 * keep + 1], axis=1).ravel()
    small = HaplotypeSet(
        haplotypes=data.haplotypes[rows],
        chrom=data.chrom, pos=data.pos, id=data.id, ref=data.ref, alt=data.alt,
        samples=data.samples[keep], population=data.population[keep],
        super_population=data.super_population[keep], split=data.split[keep], meta=data.meta,
    )  # fmt: skip
    small.save(npz_out)
    return Path(npz_out)


def train_model(
    model: str,
    npz,
    settings: dict,
    outdir: Path,
    seed: int,
    threads: int,
    budget_s: float | None = None,
) -> dict:
    """Train ``model`` on the training split of ``npz`` with :func:`training.train`.

    With ``budget_s`` a network is first trained for :data:`PROBE_EPOCHS` epochs in a scratch
    folder to time it, then trained from scratch for ``floor(budget_s / seconds per epoch)``
    epochs (at least 1), so the epochs trained depend on the machine's speed.

    Returns
    -------
    dict
        ``model_pt`` (path), ``epochs`` (int or None), ``train_s`` (wall seconds, the probe
        left out), ``s_per_epoch`` (median of the epochs' times in ``training.tsv``, None for baselines).
    """
    import pandas as pd

    from artificial_genomes.haplotypes import HaplotypeSet
    from artificial_genomes.training import train

    outdir.mkdir(parents=True, exist_ok=True)
    data = HaplotypeSet.load(npz).train()
    paths = {
        "model_out": outdir / "model.pt",
        "log_tsv": outdir / "training.tsv",
        "checkpoint_path": outdir / "checkpoint.pt",
    }
    settings = dict(settings)
    if budget_s is not None and model in EPOCH_MODELS:
        probe = outdir / "probe"
        train(
            model, data, {**settings, "epochs": PROBE_EPOCHS}, probe / "model.pt",
            probe / "training.tsv", probe / "checkpoint.pt", seed=seed, device="cpu",
            threads=threads,
        )  # fmt: skip
        seconds = pd.read_csv(probe / "training.tsv", sep="\t")["seconds"].median()
        settings["epochs"] = max(1, math.floor(budget_s / seconds))
    start = time.perf_counter()
    train(model, data, settings, seed=seed, device="cpu", threads=threads, **paths)
    train_s = time.perf_counter() - start
    epochs, s_per_epoch = None, None
    if model in EPOCH_MODELS:
        times = pd.read_csv(paths["log_tsv"], sep="\t")["seconds"]
        epochs, s_per_epoch = int(times.size), float(times.median())
    return {
        "model_pt": paths["model_out"],
        "epochs": epochs,
        "train_s": train_s,
        "s_per_epoch": s_per_epoch,
    }


def r2_all_pairs(real, synthetic) -> float:
    """Pearson r between the r^2 of every pair of SNPs in two sets (upper triangles).

    Parameters
    ----------
    real, synthetic : numpy.ndarray, int8, shape (n, n_variants)

    Returns
    -------
    float
    """
    import numpy as np

    from artificial_genomes import metrics

    upper = np.triu_indices(real.shape[1], 1)
    return metrics.pearson_r(
        metrics.ld_r2_matrix(real)[upper], metrics.ld_r2_matrix(synthetic)[upper]
    )


def evaluate_row(name: str, npz, ag_npz, outdir: Path, seed: int, extra: dict):
    """One table row: :func:`evaluate.run_evaluate` of ``ag_npz`` plus the all-pairs r^2.

    Returns
    -------
    (dict, dict)
        The row (keys of :data:`COLUMNS` and ``extra``) and the evaluate step's full result.
    """
    from artificial_genomes.evaluate import run_evaluate
    from artificial_genomes.haplotypes import HaplotypeSet

    result = run_evaluate(
        npz, ag_npz, outdir / "metrics.json", outdir / "figures", name, DATASET, seed
    )
    train = HaplotypeSet.load(npz).train().haplotypes
    ags = HaplotypeSet.load(ag_npz).haplotypes
    row = {
        "model": name,
        "AATS": result["aats_train"],
        "AA_truth": result["aa_truth_train"],
        "AA_syn": result["aa_syn_train"],
        "AATS_test": result["aats_test"],
        "privacy_loss": result["privacy_loss"],
        "exact_copies": result["exact_copies_train"],
        "AF_r": result["af_r_train"],
        "r2_band": result["r2_correlation"],
        "r2_all": r2_all_pairs(train, ags),
        **extra,
    }
    return row, result


def yardstick_row(npz, result: dict) -> dict:
    """The real test split against the real training split, from any evaluation's yardstick."""
    from artificial_genomes.haplotypes import HaplotypeSet

    real = HaplotypeSet.load(npz)
    ys = result["yardstick"]
    return {
        "model": "real test vs train",
        "AATS": ys["aats"],
        "AA_truth": ys["aa_truth"],
        "AA_syn": ys["aa_syn"],
        "exact_copies": ys["exact_copies"],
        "AF_r": ys["af_r"],
        "r2_band": ys["r2_correlation"],
        "r2_all": r2_all_pairs(real.train().haplotypes, real.test().haplotypes),
    }


def import_published_ags(config: dict, npz, outdir: Path, n_ags: int) -> dict:
    """Import the dataset's published AGs onto its sites; ``{name: ag.npz}``.

    Only the first ``n_ags`` haplotypes of each file are kept when ``n_ags`` is smaller than
    the file.
    """
    from artificial_genomes.published import import_published

    ds = config["datasets"][DATASET]
    out = {}
    for name, hapt in ds.get("published_ags", {}).items():
        folder = outdir / name
        folder.mkdir(parents=True, exist_ok=True)
        ag = import_published(
            ROOT / hapt, ROOT / ds["published_legend"], npz,
            folder / "ag.vcf.gz", folder / "ag.npz", folder / "ag.hapt", name, DATASET,
        )  # fmt: skip
        if n_ags < ag.haplotypes.shape[0]:
            ag.haplotypes = ag.haplotypes[:n_ags]
            for field in ("samples", "population", "super_population", "split"):
                setattr(ag, field, getattr(ag, field)[: n_ags // 2])
            ag.save(folder / "ag.npz")
        out[name] = folder / "ag.npz"
    return out


def format_table(rows: list[dict]) -> str:
    """The rows as a Markdown table with the columns of :data:`COLUMNS` ("" where absent)."""

    def cell(key, value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if key in ("train_s", "sample_s"):
            return f"{value:.0f}"
        if key == "s/epoch":
            return f"{value:.3f}"
        if isinstance(value, float):
            return f"{value:+.3f}" if key == "privacy_loss" else f"{value:.3f}"
        return str(value)

    body = [[cell(k, row.get(k)) for k in COLUMNS] for row in rows]
    widths = [max(len(k), *(len(r[i]) for r in body)) for i, k in enumerate(COLUMNS)]
    lines = ["| " + " | ".join(k.ljust(w) for k, w in zip(COLUMNS, widths)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |" for r in body]
    return "\n".join(lines)


def run_benchmark(
    config: dict,
    workdir: Path,
    models: list[str],
    seed: int,
    threads: int,
    n_ags: int,
    epochs: dict,
    budgets: dict,
    overrides: dict,
    published: bool = True,
    max_individuals: int | None = None,
    npz=None,
) -> list[dict]:
    """Train, sample and evaluate ``models``, then the published AGs; the table's rows.

    Parameters
    ----------
    config : dict
        Merged workflow config (:func:`merged_config`).
    workdir : Path
        Where data, models, AGs and metrics go.
    models : list of str
        Registered model names, in table order.
    seed : int
        Seed of training, sampling and evaluation (the workflow's ``seed``).
    threads : int
        PyTorch threads for training and sampling.
    n_ags : int
        AG haplotypes per model (even).
    epochs, budgets : dict
        ``{model: epochs}`` and ``{model: seconds}`` overriding the config.
    overrides : dict
        ``{model: {setting: value}}`` applied over the config's settings.
    published : bool
        Add the published AGs and the yardstick rows.
    max_individuals : int, optional
        Keep only this many random individuals (smoke runs).
    npz : path, optional
        An existing ``haplotypes.npz`` of the dataset instead of building it.

    Returns
    -------
    list of dict
        One dict per row with the keys of :data:`COLUMNS` (missing where not applicable) and
        ``metrics`` (the evaluate step's full result; not for the yardstick row).
    """
    import torch

    from artificial_genomes.sampling import run_sample

    torch.set_num_threads(threads)
    workdir.mkdir(parents=True, exist_ok=True)
    if npz is None:
        npz = build_dataset(config, workdir / "data")
    if max_individuals:
        npz = keep_individuals(
            npz, workdir / "data" / "haplotypes_small.npz", max_individuals, seed
        )
    rows, last = [], None
    for model in models:
        settings = {**model_settings(config, model), **overrides.get(model, {})}
        if model in epochs:
            settings["epochs"] = epochs[model]
        trained = train_model(
            model, npz, settings, workdir / "models" / model, seed, threads, budgets.get(model)
        )
        folder = workdir / "samples" / model
        start = time.perf_counter()
        run_sample(
            trained["model_pt"], npz, n_ags, seed,
            folder / "ag.vcf.gz", folder / "ag.npz", folder / "ag.hapt", DATASET,
        )  # fmt: skip
        extra = {
            "epochs": trained["epochs"],
            "train_s": trained["train_s"],
            "sample_s": time.perf_counter() - start,
            "s/epoch": trained["s_per_epoch"],
            "settings": settings,
        }
        row, last = evaluate_row(model, npz, folder / "ag.npz", workdir / "eval" / model, seed,
                                 extra)  # fmt: skip
        row["metrics"] = last
        rows.append(row)
        print(format_table([row]).splitlines()[-1], file=sys.stderr, flush=True)
    if published:
        for name, ag_npz in import_published_ags(config, npz, workdir / "samples", n_ags).items():
            row, last = evaluate_row(name, npz, ag_npz, workdir / "eval" / name, seed, {})
            row["metrics"] = last
            rows.append(row)
        rows.append(yardstick_row(npz, last))
    return rows


def _pairs(values, kind=float) -> dict:
    """``["rbm=50", ...]`` as ``{"rbm": 50}``."""
    out = {}
    for item in values or []:
        key, _, value = item.partition("=")
        if not value:
            raise SystemExit(f"expected MODEL=VALUE, got {item!r}")
        out[key] = kind(value)
    return out


def parse_overrides(values) -> dict:
    """``["rbm.n_hidden=1000", ...]`` as ``{"rbm": {"n_hidden": 1000}}`` (YAML-typed values)."""
    import yaml

    out: dict = {}
    for item in values or []:
        key, _, value = item.partition("=")
        model, _, setting = key.partition(".")
        if not value or not setting:
            raise SystemExit(f"expected MODEL.SETTING=VALUE, got {item!r}")
        out.setdefault(model, {})[setting] = yaml.safe_load(value)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--configfile", nargs="+", default=[str(p) for p in DEFAULT_CONFIGS],
        help="YAML files merged in order, as the workflow merges configfile and --configfile",
    )  # fmt: skip
    parser.add_argument("--models", help="comma-separated (default: the dataset's models)")
    parser.add_argument("--epochs", action="append", metavar="MODEL=N", help="epochs of a model")
    parser.add_argument(
        "--budget", action="append", metavar="MODEL=SECONDS",
        help="train a network for as many epochs as fit in SECONDS (after a probe)",
    )  # fmt: skip
    parser.add_argument("--set", action="append", metavar="MODEL.SETTING=VALUE", dest="overrides")
    parser.add_argument("--threads", type=int, default=2, help="PyTorch and BLAS threads")
    parser.add_argument("--seed", type=int, help="default: the config's seed")
    parser.add_argument("--n-ags", type=int, default=5000, help="AG haplotypes per model")
    parser.add_argument("--data", help="an existing haplotypes.npz of the dataset")
    parser.add_argument("--max-individuals", type=int, help="random subset (smoke runs)")
    parser.add_argument("--no-published", action="store_true", help="skip published/real rows")
    parser.add_argument("--workdir", help="keep outputs here (default: a temporary folder)")
    parser.add_argument("--out", help="write the table (.md), rows (.tsv) and metrics (.json) here")
    args = parser.parse_args(argv)
    if args.n_ags < 2 or args.n_ags % 2:
        parser.error("--n-ags must be a positive even number")
    # BLAS reads its thread count when numpy is first imported, hence the imports inside.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    sys.path.insert(0, str(ROOT / "scripts"))

    config = merged_config(args.configfile)
    ds = config["datasets"][DATASET]
    models = args.models.split(",") if args.models else ds.get("models", config["models"])
    seed = config.get("seed", 42) if args.seed is None else args.seed
    with tempfile.TemporaryDirectory(prefix="bench805.") as tmp:
        workdir = Path(args.workdir or tmp)
        started = time.perf_counter()
        rows = run_benchmark(
            config, workdir, models, seed, args.threads, args.n_ags,
            _pairs(args.epochs, int), _pairs(args.budget, float), parse_overrides(args.overrides),
            published=not args.no_published, max_individuals=args.max_individuals,
            npz=args.data,
        )  # fmt: skip
        table = format_table(rows)
        print(table)
        print(
            f"\n{DATASET}: {args.n_ags} AGs per model, seed {seed}, {args.threads} threads, "
            f"{time.perf_counter() - started:.0f} s in all; load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        if args.out:
            write_outputs(rows, table, Path(args.out))


def write_outputs(rows: list[dict], table: str, outdir: Path) -> None:
    """``table.md``, ``table.tsv`` (one row per model) and ``metrics.json`` (every metric)."""
    from artificial_genomes.fileio import atomic_path

    outdir.mkdir(parents=True, exist_ok=True)
    with atomic_path(outdir / "table.md") as tmp:
        tmp.write_text(table + "\n")
    with atomic_path(outdir / "table.tsv") as tmp:
        lines = ["\t".join(COLUMNS)]
        lines += [
            "\t".join("" if r.get(k) is None else str(r.get(k)) for k in COLUMNS) for r in rows
        ]
        tmp.write_text("\n".join(lines) + "\n")
    with atomic_path(outdir / "metrics.json") as tmp:
        tmp.write_text(json.dumps(rows, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
