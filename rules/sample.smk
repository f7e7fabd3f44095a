rule sample:
    """Draw artificial haplotypes from a trained model and write them as VCF, npz and hapt."""
    input:
        model="results/models/{dataset}/{model}/model.pt",
        npz="results/data/{dataset}/haplotypes.npz",
    output:
        vcf="results/samples/{dataset}/{model}/ag.vcf.gz",
        tbi="results/samples/{dataset}/{model}/ag.vcf.gz.tbi",
        npz="results/samples/{dataset}/{model}/ag.npz",
        hapt="results/samples/{dataset}/{model}/ag.hapt",
    log:
        "logs/sample/{dataset}/{model}.log",
    wildcard_constraints:
        dataset=SAMPLED_DATASETS,  # a windowed dataset's AGs come from gather_windows
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        mem_mb=lambda wc, input: max(4000, 100 * input.size_mb),
        runtime=120,
    params:
        n_ags=lambda wc: dataset_option(wc.dataset, "n_ags"),
        seed=lambda wc: dataset_seed(wc.dataset),
        device=config["device"],
    script:
        "../scripts/sample.py"
