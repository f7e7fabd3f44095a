rule download:
    """Fetch the dataset's region from a local VCF/BCF or a 1KGP release, plus the sample panel."""
    output:
        vcf="results/data/{dataset}/source.vcf.gz",
        tbi="results/data/{dataset}/source.vcf.gz.tbi",
        panel="results/data/{dataset}/panel.tsv",
    log:
        "logs/download/{dataset}.log",
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=1000,
        runtime=60,
    params:
        source=lambda wc: dataset_cfg(wc.dataset)["source"],
        region=lambda wc: dataset_cfg(wc.dataset).get("region"),
        releases=config.get("releases", {}),
        retries=config["download_retries"],
    script:
        "../scripts/download.py"
