"""Rule script of `import_published`: published AGs on the dataset's sites, as VCF, npz and hapt."""

from artificial_genomes.logs import log_to
from artificial_genomes.published import import_published

with log_to(snakemake.log[0]):
    import_published(
        hapt_path=snakemake.input.hapt,
        legend_path=snakemake.input.legend,
        haplotypes_npz=snakemake.input.npz,
        vcf_out=snakemake.output.vcf,
        npz_out=snakemake.output.npz,
        hapt_out=snakemake.output.hapt,
        model=snakemake.wildcards.model,
        dataset=snakemake.wildcards.dataset,
    )
