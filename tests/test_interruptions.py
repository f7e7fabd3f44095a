"""Interruptions and reruns: a killed training resumes, a failed write leaves nothing under the
final name, and the same config and seed give the same artificial genomes."""

import gzip
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch

from artificial_genomes import download, report, sampling, subset, training, vcf
from artificial_genomes.download import fetch_source
from artificial_genomes.encode import encode
from artificial_genomes.evaluate import run_evaluate
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.subset import subset_vcf
from workflow_utils import LCT_VCF, PANEL, make_workdir, snakemake, tiny_config

GAN = {"epochs": 30, "latent_size": 16, "checkpoint_every": 1}
TARGET = "results/samples/tiny/gan/ag.npz"
# one torch thread per training: on a busy machine two threads per job mostly wait for each other
RUN = ("--cores", "2", "--set-threads", "train=1")


def leftovers(folder):
    """Temporary files of atomic writes (``.<name>.<random>.part<suffix>``) under ``folder``."""
    return sorted(p.name for p in folder.rglob("*") if ".part" in p.name)


# -------------------------------------------------------------------------------------------
# A training job killed halfway
# -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    config = tiny_config()
    config["datasets"]["tiny"].update(models=["gan"], model_settings={"gan": dict(GAN)})
    workdir = make_workdir(tmp_path, config)
    model_dir = workdir / "results" / "models" / "tiny" / "gan"
    checkpoint = model_dir / "checkpoint.pt"
    cmd = [sys.executable, "-m", "snakemake", TARGET, *RUN]
    proc = subprocess.Popen(cmd, cwd=workdir, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not checkpoint.exists():
            assert proc.poll() is None, "snakemake ended before the first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint after 300 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its job: no clean-up runs
        proc.wait()
    killed_at = torch.load(checkpoint, weights_only=True)["epoch"]
    assert 1 <= killed_at < GAN["epochs"]
    # nothing of the killed job looks complete: no model, no loss table under its final name
    assert not (model_dir / "model.pt").exists() and not (model_dir / "training.tsv").exists()

    again = snakemake(workdir, TARGET, *RUN, check=False)
    assert again.returncode != 0 and "--unlock" in again.stderr  # the stale lock is named
    snakemake(workdir, "--unlock")
    plan = snakemake(workdir, TARGET, "-n", *RUN).stdout
    assert (
        "rule train:" in plan and "Missing output files: results/models/tiny/gan/model.pt" in plan
    )
    snakemake(workdir, TARGET, *RUN)
    log = (workdir / "logs" / "train" / "tiny" / "gan.log").read_text()
    resumed_at = int(log.split("resuming from checkpoint ")[1].split(" at epoch ")[1].split()[0])
    assert resumed_at >= killed_at  # the job may have written one more before it died
    assert f"at epoch {resumed_at} of {GAN['epochs']}" in log
    losses = pd.read_csv(model_dir / "training.tsv", sep="\t")
    assert losses["epoch"].tolist() == list(range(1, GAN["epochs"] + 1))

    # the resumed model is the model an uninterrupted run trains, weight for weight
    data = HaplotypeSet.load(workdir / "results" / "data" / "tiny" / "haplotypes.npz").train()
    whole = tmp_path / "uninterrupted"
    training.train("gan", data, dict(GAN), whole / "model.pt", whole / "training.tsv",
                   whole / "checkpoint.pt", seed=42, threads=1)  # fmt: skip
    a = torch.load(model_dir / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(whole / "model.pt", weights_only=True)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    reference = pd.read_csv(whole / "training.tsv", sep="\t")
    pd.testing.assert_frame_equal(losses.drop(columns="seconds"),
                                  reference.drop(columns="seconds"))  # fmt: skip

    # a rerun of the sample step with the same config and seed writes the same AGs
    first = HaplotypeSet.load(workdir / TARGET).haplotypes
    snakemake(workdir, TARGET, "--forcerun", "sample", *RUN)
    np.testing.assert_array_equal(HaplotypeSet.load(workdir / TARGET).haplotypes, first)
    assert leftovers(workdir / "results") == []


# -------------------------------------------------------------------------------------------
# A failure while writing leaves no file under the final name
# -------------------------------------------------------------------------------------------


class DiskFull(OSError):
    pass


def _fail(*args, **kwargs):
    raise DiskFull("no space left on device (simulated)")


def test_failed_writes_leave_no_output(tiny_vcf, tmp_path, monkeypatch):
    out = tmp_path / "out"
    source = {"vcf": str(tiny_vcf.vcf), "panel": str(tiny_vcf.panel)}
    # download: the VCF is written, then indexing it fails
    with monkeypatch.context() as m:
        m.setattr(download, "index_vcf", _fail)
        with pytest.raises(DiskFull):
            fetch_source(source, tiny_vcf.region, {}, out / "source.vcf.gz", out / "panel.tsv")
    assert not out.exists() or sorted(os.listdir(out)) == []

    fetch_source(source, tiny_vcf.region, {}, out / "source.vcf.gz", out / "panel.tsv")
    # subset: the kept records are written, then their index fails
    real_bcftools = subset.bcftools

    def index_fails(command, *args, **kwargs):
        if command == "index" and "-c" in args:
            _fail()
        return real_bcftools(command, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(subset, "bcftools", index_fails)
        with pytest.raises(DiskFull):
            subset_vcf(
                out / "source.vcf.gz", out / "panel.tsv", out / "subset.bcf", tiny_vcf.region
            )
    assert not (out / "subset.bcf").exists() and not (out / "subset.bcf.csi").exists()

    subset_vcf(out / "source.vcf.gz", out / "panel.tsv", out / "subset.bcf", tiny_vcf.region)
    # encode: the npz is half written when the disk fills up
    real_savez = np.savez_compressed

    def half_then_fail(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip")
        _fail()

    with monkeypatch.context() as m:
        m.setattr(np, "savez_compressed", half_then_fail)
        with pytest.raises(DiskFull):
            encode(out / "subset.bcf", out / "panel.tsv", out / "h.npz", out / "split.tsv")
    assert not (out / "h.npz").exists() and not (out / "split.tsv").exists()
    assert np.savez_compressed is real_savez
    assert leftovers(out) == []


def test_failed_model_and_ag_writes_leave_no_output(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    n_samples, n_variants = 16, 10
    real = HaplotypeSet(
        haplotypes=(rng.random((2 * n_samples, n_variants)) < 0.4).astype(np.int8),
        chrom=["2"] * n_variants, pos=np.arange(1, n_variants + 1) * 10,
        id=[f"rs{i}" for i in range(n_variants)], ref=["A"] * n_variants, alt=["G"] * n_variants,
        samples=[f"S{i}" for i in range(n_samples)], population=["P"] * n_samples,
        super_population=["X"] * n_samples, split=["train", "test"] * (n_samples // 2),
    )  # fmt: skip
    real.save(tmp_path / "haplotypes.npz")
    models = tmp_path / "models"
    real_save = torch.save

    def model_save_fails(obj, path, *args, **kwargs):
        if isinstance(obj, dict) and obj.get("format") == training.MODEL_FORMAT:
            with open(path, "wb") as handle:
                handle.write(b"half a model")
            _fail()
        return real_save(obj, path, *args, **kwargs)

    settings = {"epochs": 2, "batch_size": 8, "n_hidden": 4, "n_chains": 8, "gibbs_steps": 2,
                "sample_gibbs_steps": 10}  # fmt: skip
    args = ("rbm", real.train(), settings, models / "model.pt", models / "training.tsv",
            models / "checkpoint.pt")  # fmt: skip
    with monkeypatch.context() as m:
        m.setattr(torch, "save", model_save_fails)
        with pytest.raises(DiskFull):
            training.train(*args, seed=1, threads=1)
    assert not (models / "model.pt").exists() and not (models / "training.tsv").exists()
    assert torch.load(models / "checkpoint.pt", weights_only=True)["epoch"] == 2  # resumable
    training.train(*args, seed=1, threads=1)

    samples = tmp_path / "samples"
    outputs = [samples / "ag.vcf.gz", samples / "ag.npz", samples / "ag.hapt"]
    with monkeypatch.context() as m:  # the VCF is written, then its index fails
        m.setattr(vcf.pysam, "tabix_index", _fail)
        with pytest.raises(DiskFull):
            sampling.run_sample(models / "model.pt", tmp_path / "haplotypes.npz", 8, 3, *outputs)
    assert not any(p.exists() for p in [*outputs, samples / "ag.vcf.gz.tbi"])
    sampling.run_sample(models / "model.pt", tmp_path / "haplotypes.npz", 8, 3, *outputs)

    evaluation = tmp_path / "eval"
    run_evaluate(tmp_path / "haplotypes.npz", samples / "ag.npz", evaluation / "metrics.json",
                 evaluation / "figures", model="rbm", dataset="t", n_triplets=20)  # fmt: skip
    html = tmp_path / "report" / "t.html"
    real_write_text = type(html).write_text

    def half_then_fail(self, text, *a, **k):
        real_write_text(self, text[: len(text) // 2], *a, **k)
        _fail()

    with monkeypatch.context() as m:
        m.setattr(type(html), "write_text", half_then_fail)
        with pytest.raises(DiskFull):
            report.write_report(
                "t", {"rbm": str(evaluation)}, html, tsv_out=html.with_suffix(".tsv")
            )
    assert not html.exists() and not html.with_suffix(".tsv").exists()
    assert leftovers(tmp_path) == []


# -------------------------------------------------------------------------------------------
# Same config and seed: same AGs; another seed: other AGs
# -------------------------------------------------------------------------------------------


def _pipeline(folder, seed):
    """download -> subset -> encode -> train -> sample on a 20 kb LCT window, as the rules do."""
    region = "2:136600000-136620000"
    data = folder / "data"
    fetch_source({"vcf": str(LCT_VCF), "panel": str(PANEL)}, region, {},
                 data / "source.vcf.gz", data / "panel.tsv")  # fmt: skip
    subset_vcf(data / "source.vcf.gz", data / "panel.tsv", data / "subset.bcf", region,
               populations=["YRI", "CEU"], min_maf=0.05, min_haplotypes=20)  # fmt: skip
    hs = encode(data / "subset.bcf", data / "panel.tsv", data / "h.npz", data / "split.tsv",
                seed=42)  # fmt: skip
    ags = {}
    for name, settings in (
        ("gan", {"epochs": 2, "latent_size": 16}),
        ("rbm", {"epochs": 2, "n_hidden": 20, "n_chains": 16, "gibbs_steps": 2,
                 "sample_gibbs_steps": 20}),
    ):  # fmt: skip
        model = folder / name
        training.train(name, hs.train(), settings, model / "model.pt", model / "training.tsv",
                       model / "checkpoint.pt", seed=seed, threads=1)  # fmt: skip
        sampling.run_sample(model / "model.pt", data / "h.npz", 40, seed, model / "ag.vcf.gz",
                            model / "ag.npz", model / "ag.hapt", dataset="t")  # fmt: skip
        with gzip.open(model / "ag.vcf.gz", "rt") as handle:
            text = handle.read()
        ags[name] = (HaplotypeSet.load(model / "ag.npz").haplotypes, text)
    return ags


def test_same_seed_same_ags_other_seed_other_ags(tmp_path):
    first = _pipeline(tmp_path / "first", seed=42)
    rerun = _pipeline(tmp_path / "rerun", seed=42)
    other = _pipeline(tmp_path / "other", seed=43)
    for name in ("gan", "rbm"):
        np.testing.assert_array_equal(first[name][0], rerun[name][0])
        assert first[name][1] == rerun[name][1]  # the VCFs, byte for byte once decompressed
        assert first[name][0].shape == (40, first[name][0].shape[1])
        assert not np.array_equal(first[name][0], other[name][0])
