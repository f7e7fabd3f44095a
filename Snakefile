# artificial-genomes: train generative networks on phased haplotypes, write artificial genomes
# (AGs), and report how realistic and how private they are. Design: see README.md.
from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "config/config.schema.yaml")


wildcard_constraints:
    dataset="[A-Za-z0-9_.-]+",
    model="[A-Za-z0-9_-]+",


include: "rules/common.smk"
include: "rules/download.smk"
include: "rules/subset.smk"
include: "rules/encode.smk"
include: "rules/train.smk"
include: "rules/sample.smk"
include: "rules/windows.smk"
include: "rules/published.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


rule all:
    default_target: True
    input:
        all_targets(),
