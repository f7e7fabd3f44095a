"""The workflow as a whole: lint, dry runs of other configs, and a tiny end-to-end run."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import yaml

from artificial_genomes.haplotypes import HaplotypeSet
from workflow_utils import REPO, make_workdir, snakemake, tiny_config


def test_lint_is_clean():
    proc = snakemake(REPO, "--lint")
    assert "Congratulations" in proc.stdout + proc.stderr


def test_new_population_and_region_plan_the_same_chain(tmp_path):
    """Only YRI on another window of the LCT file: same rules, no edit of any rule file."""
    example = yaml.safe_load((REPO / "config" / "examples" / "yri_window.yaml").read_text())
    workdir = make_workdir(tmp_path, example)
    proc = snakemake(workdir, "-n", "--cores", "1")
    out = proc.stdout + proc.stderr
    for rule in ("download", "subset", "encode", "train", "sample", "evaluate", "report"):
        assert f"rule {rule}:" in out
    assert "results/report/yri_window.html" in out
    assert "results/samples/yri_window/gan/ag.vcf.gz" in out


@pytest.mark.parametrize(
    "change, key",
    [
        ({"region": "2:300-100"}, "datasets.tiny.region"),
        ({"region": "2-100"}, "region"),
        ({"models": ["vae"]}, "vae"),
    ],
)
def test_bad_config_is_refused_at_start(tmp_path, change, key):
    config = tiny_config()
    config["datasets"]["tiny"].update(change)
    workdir = make_workdir(tmp_path, config)
    proc = snakemake(workdir, "-n", "--cores", "1", check=False)
    assert proc.returncode != 0
    assert key in proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The whole workflow on 3 populations and a 20 kb window, 2 epochs per model."""
    workdir = make_workdir(tmp_path_factory.mktemp("tiny"), tiny_config())
    snakemake(workdir, "--cores", "2")
    return workdir


@pytest.mark.slow
def test_tiny_run_writes_reports_and_readable_vcfs(tiny_run):
    results = tiny_run / "results"
    real = HaplotypeSet.load(results / "data" / "tiny" / "haplotypes.npz")
    assert set(real.population) == {"YRI", "CEU", "CHB"}
    assert real.n_samples == 108 + 99 + 103
    html = (results / "report" / "tiny.html").read_text()
    for model in ("gan", "rbm"):
        assert model in html
        metrics = json.loads((results / "eval" / "tiny" / model / "metrics.json").read_text())
        assert metrics["n_variants"] == real.n_variants
        vcf = results / "samples" / "tiny" / model / "ag.vcf.gz"
        ag = HaplotypeSet.load(results / "samples" / "tiny" / model / "ag.npz")
        assert ag.haplotypes.shape == (100, real.n_variants)
        assert set(np.unique(ag.haplotypes)) <= {0, 1}
        np.testing.assert_array_equal(ag.pos, real.pos)
        if shutil.which("bcftools"):
            query = subprocess.run(
                ["bcftools", "query", "-f", "%POS[\\t%GT]\\n", str(vcf)],
                capture_output=True, text=True, check=True,
            ).stdout.splitlines()
            assert len(query) == real.n_variants
            first = query[0].split("\t")
            assert int(first[0]) == real.pos[0]
            assert first[1] == f"{ag.haplotypes[0, 0]}|{ag.haplotypes[1, 0]}"
    training = (results / "models" / "tiny" / "gan" / "training.tsv").read_text().splitlines()
    assert len(training) == 1 + 2  # header and 2 epochs


@pytest.mark.slow
def test_rerun_is_a_no_op_and_settings_change_retrains_only_that_model(tiny_run):
    proc = snakemake(tiny_run, "-n", "--cores", "1")
    assert "Nothing to be done" in proc.stdout + proc.stderr
    config = yaml.safe_load((tiny_run / "config" / "config.yaml").read_text())
    config["datasets"]["tiny"]["model_settings"]["rbm"]["epochs"] = 3
    (tiny_run / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    out = snakemake(tiny_run, "-n", "--cores", "1").stdout
    assert "rule train:" in out
    assert "results/models/tiny/rbm/model.pt" in out
    assert "results/models/tiny/gan/model.pt" not in out
    for data_rule in ("download", "subset", "encode"):
        assert f"rule {data_rule}:" not in out
