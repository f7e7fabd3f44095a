"""Helpers for tests that run the whole workflow in a temporary folder."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
RESOURCES = REPO / "resources"
LCT_VCF = RESOURCES / "lct_chr2" / "1kg_phase3_chr2_LCT_136.40-136.70Mb.phased.vcf.gz"
PANEL = RESOURCES / "panel" / "integrated_call_samples_v3.20130502.ALL.panel"
WORKFLOW_PARTS = ("Snakefile", "rules", "scripts", "envs", "report", "profiles")


def tiny_config(**overrides):
    """A config that runs every step in about a minute: 3 populations, a 20 kb window, 2 epochs."""
    config = {
        "datasets": {
            "tiny": {
                "source": {"vcf": str(LCT_VCF), "panel": str(PANEL)},
                "region": "2:136600000-136620000",
                "populations": ["YRI", "CEU", "CHB"],
                "min_maf": 0.02,
                "models": ["gan", "rbm"],
                "model_settings": {
                    "gan": {"epochs": 2, "checkpoint_every": 1},
                    "rbm": {"epochs": 2, "checkpoint_every": 1},
                },
            }
        },
        "n_ags": 100,
    }
    config.update(overrides)
    return config


def make_workdir(tmp_path, config):
    """Copy the workflow into ``tmp_path`` with ``config`` as its config/config.yaml.

    Parameters
    ----------
    tmp_path : pathlib.Path
        Empty folder to run the workflow in.
    config : dict
        Replaces the default config (not merged with it).

    Returns
    -------
    pathlib.Path
        The working directory.
    """
    for part in WORKFLOW_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, tmp_path / part)
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "config.schema.yaml", tmp_path / "config")
    with open(tmp_path / "config" / "config.yaml", "w") as handle:
        yaml.safe_dump(config, handle)
    return tmp_path


def snakemake(workdir, *args, timeout=900, check=True):
    """Run Snakemake of the current Python environment in ``workdir``; return the completed process."""
    cmd = [sys.executable, "-m", "snakemake", *args]
    proc = subprocess.run(
        cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
        )
    return proc
