"""Rule script of `train`: fit one model on the training split."""

from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.logs import log_to
from artificial_genomes.training import train

with log_to(snakemake.log[0]):
    train(
        model_name=snakemake.wildcards.model,
        data=HaplotypeSet.load(snakemake.input.npz).train(),
        settings=snakemake.params.settings,
        model_out=snakemake.output.model,
        log_tsv=snakemake.output.tsv,
        checkpoint_path=snakemake.params.checkpoint,
        seed=snakemake.params.seed,
        device=None if snakemake.params.device == "auto" else snakemake.params.device,
        threads=snakemake.threads,
    )
