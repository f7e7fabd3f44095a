rule train:
    """Train one generative model on the training haplotypes of a dataset."""
    input:
        npz="results/data/{dataset}/haplotypes.npz",
        extra=lambda wc: model_inputs(wc.dataset, wc.model),
    output:
        model="results/models/{dataset}/{model}/model.pt",
        tsv="results/models/{dataset}/{model}/training.tsv",
    log:
        "logs/train/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{model}.tsv"
    wildcard_constraints:
        model="(?!published_)[A-Za-z0-9_-]+",
    conda:
        "../envs/train.yaml"
    threads: lambda wc: 4 if wc.model in NETWORK_MODELS else 1
    resources:
        mem_mb=lambda wc, input: max(4000, 400 * input.size_mb),
        runtime=1440,
        gpu=lambda wc: config["gpus_per_training"] if wc.model in NETWORK_MODELS else 0,
    params:
        settings=lambda wc: model_settings(wc.dataset, wc.model),
        checkpoint=lambda wc: f"results/models/{wc.dataset}/{wc.model}/checkpoint.pt",
        seed=lambda wc: dataset_seed(wc.dataset),
        device=config["device"],
    script:
        "../scripts/train.py"
