"""Smoke test of benchmarks/yelmen805.py: a tiny budget on the bundled 805-SNP data.

The benchmark must print one table with a row per model, the published AGs and the real
yardstick, every number finite; and it must read its settings as the workflow merges
``config/config.yaml`` with ``--configfile``.
"""

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "yelmen805.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_yelmen805", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_merged_config_follows_snakemake(bench, tmp_path):
    base, extra = tmp_path / "base.yaml", tmp_path / "extra.yaml"
    base.write_text(
        "models: [gan, rbm]\n"
        "model_settings: {rbm: {n_chains: 100, gibbs_steps: 5}}\n"
        "datasets:\n"
        "  lct: {source: {vcf: a.vcf.gz, panel: p}}\n"
        "  yelmen805:\n"
        "    source: {vcf: b.vcf.gz, panel: p}\n"
        "    model_settings: {gan: {epochs: 100}, rbm: {epochs: 200}}\n"
    )
    extra.write_text(
        "models: [rbm]\n"
        "datasets:\n"
        "  yelmen805:\n"
        "    n_ags: 5000\n"
        "    model_settings: {rbm: {epochs: 7, n_hidden: 1000}}\n"
    )
    config = bench.merged_config([base, extra])
    assert config["models"] == ["rbm"]  # lists are replaced
    assert set(config["datasets"]) == {"lct", "yelmen805"}  # mappings are merged
    assert config["datasets"]["yelmen805"]["source"]["vcf"] == "b.vcf.gz"
    assert config["datasets"]["yelmen805"]["n_ags"] == 5000
    assert bench.model_settings(config, "rbm") == {
        "n_chains": 100,
        "gibbs_steps": 5,
        "epochs": 7,
        "n_hidden": 1000,
    }
    assert bench.model_settings(config, "gan") == {"epochs": 100}
    config["preset"] = "published"
    assert bench.model_settings(config, "rbm") == {}
    # the preset is the networks' only: baselines keep their settings, as in rules/common.smk
    config["model_settings"]["mosaic"] = {"ne": 1000}
    assert bench.model_settings(config, "mosaic") == {"ne": 1000}


def test_format_table_aligns_and_leaves_missing_cells_empty(bench):
    table = bench.format_table(
        [{"model": "rbm", "AATS": 0.5, "privacy_loss": -0.01, "s/epoch": 1.25, "train_s": 61.6}]
    )
    header, rule, row = table.splitlines()
    assert header.split("|")[1].strip() == "model"
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert dict(zip(bench.COLUMNS, cells)) == {
        "model": "rbm", "epochs": "", "AATS": "0.500", "AA_truth": "", "AA_syn": "",
        "AATS_test": "", "privacy_loss": "-0.010", "exact_copies": "", "AF_r": "",
        "r2_band": "", "r2_all": "", "train_s": "62", "sample_s": "", "s/epoch": "1.250",
    }  # fmt: skip
    assert len({len(line) for line in (header, rule, row)}) == 1


def test_benchmark_runs_on_a_tiny_budget(tmp_path):
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable, str(SCRIPT),
            "--models", "gan,rbm,independent,copy",
            "--epochs", "gan=2", "--budget", "rbm=1",
            "--set", "rbm.sample_gibbs_steps=5", "--set", "rbm.n_chains=20",
            "--max-individuals", "120", "--n-ags", "100", "--threads", "1",
            "--workdir", str(tmp_path / "work"), "--out", str(out),
        ],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    lines = (out / "table.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = {line.split("\t")[0]: dict(zip(header, line.split("\t"))) for line in lines[1:]}
    assert header == [
        "model", "epochs", "AATS", "AA_truth", "AA_syn", "AATS_test", "privacy_loss",
        "exact_copies", "AF_r", "r2_band", "r2_all", "train_s", "sample_s", "s/epoch",
    ]  # fmt: skip
    assert list(rows) == [
        "gan", "rbm", "independent", "copy", "published_gan", "published_rbm",
        "real test vs train",
    ]  # fmt: skip
    numeric = [c for c in header if c != "model"]
    for name, row in rows.items():
        filled = {c: float(row[c]) for c in numeric if row[c] != ""}
        assert all(math.isfinite(v) for v in filled.values()), (name, row)
        for key in ("AATS", "AA_truth", "AA_syn", "AF_r", "r2_all"):
            assert key in filled, (name, key)
        assert 0.0 <= filled["AATS"] <= 1.0
    assert int(rows["gan"]["epochs"]) == 2
    # --budget rbm=1: as many epochs as fit in a second at the probe's speed
    s_per_epoch = float(rows["rbm"]["s/epoch"])
    assert 1 <= int(rows["rbm"]["epochs"]) <= max(1, 3 / s_per_epoch)
    # copies of training haplotypes: every AG is one of them
    assert int(rows["copy"]["exact_copies"]) == 100
    assert int(rows["independent"]["exact_copies"]) == 0
    # the printed table has the same rows
    printed = [line for line in run.stdout.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in printed[1:]] == list(rows)
