"""Rule script of `evaluate`: realism and privacy metrics and figures of one model's AGs."""

from artificial_genomes.evaluate import run_evaluate
from artificial_genomes.logs import log_to

with log_to(snakemake.log[0]):
    run_evaluate(
        haplotypes_npz=snakemake.input.real,
        ag_npz=snakemake.input.ag,
        metrics_json=snakemake.output.metrics,
        figure_dir=snakemake.output.figures,
        model=snakemake.wildcards.model,
        dataset=snakemake.wildcards.dataset,
        seed=snakemake.params.seed,
    )
