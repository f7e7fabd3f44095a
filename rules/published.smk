# AGs published with the 2021 paper (config `published_ags`) enter as models named published_*:
# they are imported, never trained or sampled.
ruleorder: import_published > sample


rule import_published:
    """Place published AGs on the dataset's sites and write them as the sample step does."""
    input:
        hapt=published_ag_file,
        legend=lambda wc: dataset_cfg(wc.dataset)["published_legend"],
        npz="results/data/{dataset}/haplotypes.npz",
    output:
        vcf="results/samples/{dataset}/{model}/ag.vcf.gz",
        tbi="results/samples/{dataset}/{model}/ag.vcf.gz.tbi",
        npz="results/samples/{dataset}/{model}/ag.npz",
        hapt="results/samples/{dataset}/{model}/ag.hapt",
    log:
        "logs/import_published/{dataset}/{model}.log",
    wildcard_constraints:
        model="published_[A-Za-z0-9_]+",
    conda:
        "../envs/data.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/import_published.py"
