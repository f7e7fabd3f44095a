"""Rule script of `download`: fetch the dataset's region and the sample panel."""

from artificial_genomes.download import fetch_source
from artificial_genomes.logs import log_to

with log_to(snakemake.log[0]):
    fetch_source(
        source=snakemake.params.source,
        region=snakemake.params.region,
        releases=snakemake.params.releases,
        vcf_out=snakemake.output.vcf,
        panel_out=snakemake.output.panel,
        retries=snakemake.params.retries,
    )
