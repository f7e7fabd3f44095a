# Helpers shared by every stage (target lists, per-dataset settings from the config).
# No rules here.
import copy

from snakemake.exceptions import WorkflowError

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


def dataset_cfg(dataset):
    """The config block of one dataset."""
    return config["datasets"][dataset]


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
