rule subset:
    """Keep biallelic SNPs of the chosen populations inside the region that pass the filters."""
    input:
        vcf="results/data/{dataset}/source.vcf.gz",
        tbi="results/data/{dataset}/source.vcf.gz.tbi",
        panel="results/data/{dataset}/panel.tsv",
    output:
        bcf="results/data/{dataset}/subset.bcf",
        csi="results/data/{dataset}/subset.bcf.csi",
    log:
        "logs/subset/{dataset}.log",
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        region=lambda wc: dataset_cfg(wc.dataset).get("region"),
        populations=lambda wc: dataset_cfg(wc.dataset).get("populations", []),
        super_populations=lambda wc: dataset_cfg(wc.dataset).get(
            "super_populations", []
        ),
        min_maf=lambda wc: dataset_option(wc.dataset, "min_maf"),
        max_missing=lambda wc: dataset_option(wc.dataset, "max_missing"),
        unphased=lambda wc: dataset_option(wc.dataset, "unphased"),
        min_haplotypes=config["min_haplotypes"],
    script:
        "../scripts/subset.py"
