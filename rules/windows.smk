# A dataset with `windows` is trained as one dataset per window ({dataset}.w1, ...), each through
# download, subset, encode, train and sample (in parallel on a cluster); this rule joins their AGs.
# The sample rule leaves windowed datasets to it (WINDOWED_DATASETS in common.smk).


rule gather_windows:
    """Join one model's AGs of every window, in genomic order, into AGs of the whole region."""
    input:
        ags=lambda wc: expand(
            "results/samples/{window}/{model}/ag.npz",
            window=dataset_windows(wc.dataset),
            model=wc.model,
        ),
        reals=lambda wc: expand(
            "results/data/{window}/haplotypes.npz", window=dataset_windows(wc.dataset)
        ),
        npz="results/data/{dataset}/haplotypes.npz",
    output:
        vcf="results/samples/{dataset}/{model}/ag.vcf.gz",
        tbi="results/samples/{dataset}/{model}/ag.vcf.gz.tbi",
        npz="results/samples/{dataset}/{model}/ag.npz",
        hapt="results/samples/{dataset}/{model}/ag.hapt",
    log:
        "logs/gather_windows/{dataset}/{model}.log",
    wildcard_constraints:
        dataset=WINDOWED_DATASETS,
        model="(?!published_)[A-Za-z0-9_-]+",
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=lambda wc, input: max(2000, 20 * input.size_mb),
        runtime=30,
    params:
        regions=lambda wc: [
            dataset_cfg(w)["region"] for w in dataset_windows(wc.dataset)
        ],
    script:
        "../scripts/gather_windows.py"
