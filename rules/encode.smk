rule encode:
    """Turn the subset into the 0/1 haplotype matrix and split individuals into train and test."""
    input:
        bcf="results/data/{dataset}/subset.bcf",
        csi="results/data/{dataset}/subset.bcf.csi",
        panel="results/data/{dataset}/panel.tsv",
    output:
        npz="results/data/{dataset}/haplotypes.npz",
        split="results/data/{dataset}/split.tsv",
    log:
        "logs/encode/{dataset}.log",
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=lambda wc, input: max(2000, 40 * input.size_mb),
        runtime=30,
    params:
        test_fraction=config["split"]["test_fraction"],
        seed=config["split"]["seed"],
    script:
        "../scripts/encode.py"
