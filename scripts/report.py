"""Rule script of `report`: the HTML page and metrics table of one dataset."""

from pathlib import Path

from artificial_genomes.logs import log_to
from artificial_genomes.report import write_report

with log_to(snakemake.log[0]):
    write_report(
        dataset=snakemake.wildcards.dataset,
        evaluations={
            model: str(Path(metrics).parent)
            for model, metrics in zip(snakemake.params.models, snakemake.input.metrics)
        },
        html_out=snakemake.output.html,
        tsv_out=snakemake.output.tsv,
    )
