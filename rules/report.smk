rule report:
    """One self-contained HTML page per dataset comparing all its models."""
    input:
        metrics=lambda wc: expand(
            "results/eval/{{dataset}}/{model}/metrics.json",
            model=dataset_models(wc.dataset),
        ),
        figures=lambda wc: expand(
            "results/eval/{{dataset}}/{model}/figures",
            model=dataset_models(wc.dataset),
        ),
    output:
        html=report(
            "results/report/{dataset}.html",
            caption="../report/report.rst",
            category="{dataset}",
        ),
        tsv="results/report/{dataset}.metrics.tsv",
    log:
        "logs/report/{dataset}.log",
    conda:
        "../envs/evaluate.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        models=lambda wc: dataset_models(wc.dataset),
    script:
        "../scripts/report.py"
