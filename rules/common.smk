# Helpers shared by every stage (target lists, per-dataset settings from the config).
# No rules here.
import copy
import os
import re
import sys

from snakemake.exceptions import WorkflowError

# The config is expanded with the package's window functions (standard library only).
sys.path.append(os.path.join(workflow.basedir, "scripts"))
from artificial_genomes.errors import InputError
from artificial_genomes.windows import window_name, window_regions

DATASETS = list(config["datasets"])
# Models whose training needs the network code; baselines are cheap and run on one core.
NETWORK_MODELS = {"gan", "rbm"}


def check_config():
    """Checks the JSON schema cannot express; fail at start, naming the key, before any job runs."""
    for name, ds in config["datasets"].items():
        region = ds.get("region")
        if region and ":" in region:
            start, end = (
                int(x.replace(",", "")) for x in region.split(":", 1)[1].split("-")
            )
            if start < 1 or start > end:
                raise WorkflowError(
                    f"config key datasets.{name}.region: {region!r} has start > end or start < 1; "
                    "write chrom:start-end with 1 <= start <= end (1-based, inclusive)"
                )
        release = ds["source"].get("release")
        if release is not None and release not in config.get("releases", {}):
            raise WorkflowError(
                f"config key datasets.{name}.source.release: unknown release {release!r}; "
                f"known: {', '.join(config.get('releases', {}))}"
            )


check_config()


def expand_windows():
    """The windows of every windowed dataset, as datasets of their own.

    Returns ``{window dataset: (dataset, k, config block)}``: window ``k`` (1-based) of
    ``dataset`` is named ``{dataset}.w{k}`` and has the dataset's config with ``region`` = the
    window and no ``windows``.
    """
    windows = {}
    for name, ds in config["datasets"].items():
        if "windows" not in ds:
            continue
        try:
            regions = window_regions(ds.get("region"), ds["windows"])
        except InputError as err:
            raise WorkflowError(f"config key datasets.{name}.windows: {err}") from None
        for k, region in enumerate(regions, start=1):
            block = {key: value for key, value in ds.items() if key != "windows"}
            windows[window_name(name, k)] = (name, k, {**block, "region": region})
    clash = sorted(set(windows) & set(config["datasets"]))
    if clash:
        raise WorkflowError(
            f"config key datasets: {', '.join(clash)} is also the name of a window of a windowed "
            "dataset; rename it"
        )
    return windows


WINDOWS = expand_windows()


def _exactly(names):
    """Regex of a wildcard value that is one of ``names`` (matching nothing when empty)."""
    return "|".join(re.escape(name) for name in names) or "(?!)"


# Wildcard constraints: datasets whose AGs the gather_windows rule writes, and all others (the
# sample rule's); the lookahead refuses a windowed name only when nothing follows it.
WINDOWED_DATASETS = _exactly(sorted({parent for parent, _, _ in WINDOWS.values()}))
SAMPLED_DATASETS = f"(?!(?:{WINDOWED_DATASETS})(?![A-Za-z0-9_.-]))[A-Za-z0-9_.-]+"


def dataset_windows(dataset):
    """Names of the window datasets of a windowed dataset, in genomic order."""
    return [name for name, (parent, _, _) in WINDOWS.items() if parent == dataset]


def dataset_cfg(dataset):
    """The config block of one dataset (or of one window of a windowed dataset)."""
    if dataset in WINDOWS:
        return WINDOWS[dataset][2]
    return config["datasets"][dataset]


def dataset_seed(dataset):
    """Seed of training and sampling: `seed`, plus k for window k of a windowed dataset, so that
    the windows' AGs are independent draws."""
    return config["seed"] + (WINDOWS[dataset][1] if dataset in WINDOWS else 0)


def published_ags(dataset):
    """Published AG files of a dataset, ``{published_name: path}`` (imported, not trained)."""
    return dataset_cfg(dataset).get("published_ags", {})


def published_ag_file(wildcards):
    """The published .hapt(.zip) of one published_* model of a dataset."""
    files = published_ags(wildcards.dataset)
    if wildcards.model not in files:
        raise WorkflowError(
            f"config key datasets.{wildcards.dataset}.published_ags has no {wildcards.model!r} "
            f"(it has: {', '.join(files) or 'nothing'}); add it or ask for another model"
        )
    return files[wildcards.model]


def dataset_models(dataset):
    """Model names evaluated for a dataset: those it trains, then its published AGs."""
    trained = dataset_cfg(dataset).get("models", config["models"])
    return trained + list(published_ags(dataset))


def model_settings(dataset, model):
    """Settings of one model on one dataset: the top-level ones, then the dataset's overrides.

    With ``preset: published`` the config's settings of the networks are ignored and they train
    with the 2021 paper's settings (the defaults of their config classes); baselines keep theirs.
    """
    if config["preset"] == "published" and model in NETWORK_MODELS:
        return {}
    settings = copy.deepcopy(config.get("model_settings", {}).get(model, {}))
    settings.update(dataset_cfg(dataset).get("model_settings", {}).get(model, {}))
    return settings


def model_inputs(dataset, model):
    """Files a model's settings name (the mosaic's genetic map), so that a changed file retrains."""
    genetic_map = model_settings(dataset, model).get("genetic_map")
    return [genetic_map] if genetic_map else []


def dataset_option(dataset, key):
    """A per-dataset value that falls back to the top-level default of the same name."""
    return dataset_cfg(dataset).get(key, config[key])


def all_targets():
    """Targets of the default run: AG VCFs and one report per dataset."""
    targets = []
    for dataset in DATASETS:
        targets += expand(
            "results/samples/{dataset}/{model}/ag.vcf.gz",
            dataset=dataset,
            model=dataset_models(dataset),
        )
        targets.append(f"results/report/{dataset}.html")
    return targets
