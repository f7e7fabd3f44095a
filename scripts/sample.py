"""Rule script of `sample`: draw AGs and write them as VCF, npz and hapt."""

from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.logs import log_to
from artificial_genomes.sampling import run_sample

with log_to(snakemake.log[0]):
    n_ags = snakemake.params.n_ags
    if n_ags is None:  # default: as many AGs as training haplotypes
        n_ags = 2 * int((HaplotypeSet.load(snakemake.input.npz).split == "train").sum())
    run_sample(
        model_path=snakemake.input.model,
        haplotypes_npz=snakemake.input.npz,
        n_haplotypes=n_ags,
        seed=snakemake.params.seed,
        vcf_out=snakemake.output.vcf,
        npz_out=snakemake.output.npz,
        hapt_out=snakemake.output.hapt,
        dataset=snakemake.wildcards.dataset,
    )
