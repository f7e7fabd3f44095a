"""artificial-genomes: train generative models on phased haplotypes and write artificial genomes.

The package holds all logic of the workflow; the scripts next to it are thin wrappers that read
Snakemake's ``snakemake`` object and call one function of this package.
"""

__version__ = "0.1.0"
