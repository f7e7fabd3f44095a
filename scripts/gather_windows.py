"""Rule script of `gather_windows`: join one model's AGs of every window of a dataset."""

from artificial_genomes.logs import log_to
from artificial_genomes.windows import gather_windows

with log_to(snakemake.log[0]):
    gather_windows(
        window_ag_npz=snakemake.input.ags,
        window_haplotypes_npz=snakemake.input.reals,
        haplotypes_npz=snakemake.input.npz,
        vcf_out=snakemake.output.vcf,
        npz_out=snakemake.output.npz,
        hapt_out=snakemake.output.hapt,
        dataset=snakemake.wildcards.dataset,
        regions=snakemake.params.regions,
    )
