"""Rule script of `encode`: haplotype matrix and train/test split."""

from artificial_genomes.encode import encode
from artificial_genomes.logs import log_to

with log_to(snakemake.log[0]):
    encode(
        bcf_in=snakemake.input.bcf,
        panel_tsv=snakemake.input.panel,
        npz_out=snakemake.output.npz,
        split_tsv_out=snakemake.output.split,
        test_fraction=snakemake.params.test_fraction,
        seed=snakemake.params.seed,
        meta={"dataset": snakemake.wildcards.dataset},
    )
