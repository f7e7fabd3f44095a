"""Rule script of `subset`: region, populations, biallelic SNPs, frequency filter."""

from artificial_genomes.logs import log_to
from artificial_genomes.subset import subset_vcf

with log_to(snakemake.log[0]):
    subset_vcf(
        vcf_in=snakemake.input.vcf,
        panel_tsv=snakemake.input.panel,
        bcf_out=snakemake.output.bcf,
        region=snakemake.params.region,
        populations=snakemake.params.populations,
        super_populations=snakemake.params.super_populations,
        min_maf=snakemake.params.min_maf,
        max_missing=snakemake.params.max_missing,
        min_haplotypes=snakemake.params.min_haplotypes,
        unphased=snakemake.params.unphased,
    )
