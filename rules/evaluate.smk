rule evaluate:
    """Measure realism and privacy of one model's AGs against the training and test haplotypes."""
    input:
        real="results/data/{dataset}/haplotypes.npz",
        ag="results/samples/{dataset}/{model}/ag.npz",
    output:
        metrics="results/eval/{dataset}/{model}/metrics.json",
        figures=report(
            directory("results/eval/{dataset}/{model}/figures"),
            patterns=["{name}.png"],
            caption="../report/figure.rst",
            category="{dataset}",
            subcategory="{model}",
        ),
    log:
        "logs/evaluate/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/evaluate/{dataset}/{model}.tsv"
    conda:
        "../envs/evaluate.yaml"
    threads: 2
    resources:
        mem_mb=lambda wc, input: max(4000, 200 * input.size_mb),
        runtime=60,
    params:
        seed=config["seed"],
    script:
        "../scripts/evaluate.py"
