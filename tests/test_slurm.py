"""Run the workflow through `--profile profiles/slurm` on a real one-node SLURM cluster.

`.ci/start-slurm` starts the cluster on this machine (installing slurm-wlm and munge when it is
root and they are missing); where it cannot, these tests are skipped with its reason. The
cluster has no accounting database, so job states come from `squeue` (MinJobAge keeps finished
jobs visible) and the runs pass `--slurm-status-command squeue`.
"""

import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from workflow_utils import REPO, make_workdir, snakemake, tiny_config

pytestmark = pytest.mark.slurm

START_SLURM = REPO / ".ci" / "start-slurm"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
JOBID = re.compile(r"submitted with SLURM jobid (\d+)")
# Options for the one-node test cluster on top of the profile: states from squeue (no
# accounting), an early first status check (the jobs take seconds, not hours), the SLURM logs of
# successful jobs kept to be read, no retries and a short wait for outputs (a local disk).
SLURM_TEST_ARGS = [
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--slurm-keep-successful-logs",
    "--retries",
    "0",
    "--latency-wait",
    "5",
]


@pytest.fixture
def report(capsys):
    """Print past pytest's capture, so that CI's log shows the SLURM job ids each test saw."""

    def show(text):
        with capsys.disabled():
            print(f"\n{text}")

    return show


@pytest.fixture(scope="session")
def slurm():
    """Start (or find) the one-node cluster; skip when SLURM cannot run on this machine."""
    pytest.importorskip(
        "snakemake_executor_plugin_slurm",
        reason="snakemake-executor-plugin-slurm is not installed (pip install -r requirements.txt)",
    )
    try:
        proc = subprocess.run(
            [str(START_SLURM)],
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"SLURM cannot start here: {START_SLURM.name} did not run ({err})")
    print(proc.stdout)
    if proc.returncode == 2:
        pytest.skip(f"SLURM cannot start here: {proc.stderr.strip()}")
    assert proc.returncode == 0, f"{START_SLURM} failed:\n{proc.stdout}\n{proc.stderr}"
    partition = subprocess.run(
        ["sinfo", "-h", "-o", "%P"], capture_output=True, text=True, check=True
    ).stdout.split()
    return {"partition": next(p.rstrip("*") for p in partition if p.endswith("*"))}


def slurm_states(job_ids):
    """{job id: state} of the given jobs as squeue reports them (finished ones included)."""
    out = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i|%T", "--jobs", ",".join(job_ids)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("|") for line in out.split())


def run_through_slurm(workdir, *args):
    """Run Snakemake with the SLURM profile in `workdir`; return (process, job ids, seconds)."""
    start = time.monotonic()
    proc = snakemake(workdir, "--profile", "profiles/slurm", *SLURM_TEST_ARGS, *args, timeout=600)
    seconds = time.monotonic() - start
    job_ids = JOBID.findall(proc.stderr + proc.stdout)
    return proc, job_ids, seconds


def test_profile_jobs_run_as_slurm_jobs(slurm, tmp_path, report):
    shutil.copytree(REPO / "profiles" / "slurm", tmp_path / "profiles" / "slurm")
    (tmp_path / "Snakefile").write_text(
        "rule all:\n"
        '    input: "second.txt"\n\n'
        "rule first:\n"
        '    output: "first.txt"\n'
        "    resources: mem_mb=100, runtime=5\n"
        '    shell: "echo $SLURM_JOB_ID $SLURM_JOB_PARTITION $SLURM_CPUS_PER_TASK > {output}"\n\n'
        "rule second:\n"
        '    input: "first.txt"\n'
        '    output: "second.txt"\n'
        "    threads: 2\n"
        '    shell: "cat {input} > {output}; echo $SLURM_JOB_ID $SLURM_CPUS_PER_TASK >> {output}"\n'
    )

    proc, job_ids, seconds = run_through_slurm(tmp_path)

    report(f"toy workflow: SLURM jobs {job_ids} in {seconds:.0f} s")
    assert len(job_ids) == 2, proc.stderr[-3000:]
    first, second = (line.split() for line in (tmp_path / "second.txt").read_text().splitlines())
    # each rule ran inside its own SLURM job, on the default partition, with its threads as CPUs
    assert first == [job_ids[0], slurm["partition"], "1"]
    assert second == [job_ids[1], "2"]
    assert slurm_states(job_ids) == {job_id: "COMPLETED" for job_id in job_ids}
    logs = sorted(p.stem for p in (tmp_path / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert logs == sorted(job_ids)


@pytest.mark.slow
def test_tiny_workflow_through_slurm_equals_local_run(slurm, tmp_path, report):
    config = tiny_config()
    models = config["datasets"]["tiny"]["models"]
    ag_files = [f"results/samples/tiny/{model}/ag.npz" for model in models]
    (tmp_path / "local").mkdir()
    (tmp_path / "slurm").mkdir()
    local = make_workdir(tmp_path / "local", config)
    cluster = make_workdir(tmp_path / "slurm", config)

    # Both runs use one thread per job: the same threads give the same floating-point sums, and
    # on the 2-CPU test node two jobs then run at a time. The local run (to the AGs only) goes
    # while the SLURM run waits for its jobs.
    threads = ["--max-threads", "1"]
    start = time.monotonic()
    cluster_run = subprocess.Popen(
        [*SNAKEMAKE, "--profile", "profiles/slurm", *SLURM_TEST_ARGS, *threads],
        cwd=cluster,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        snakemake(local, "--cores", "2", *threads, *ag_files)
        local_seconds = time.monotonic() - start
        stdout, stderr = cluster_run.communicate(timeout=600)
    finally:
        cluster_run.kill()
    slurm_seconds = time.monotonic() - start
    assert cluster_run.returncode == 0, f"SLURM run failed:\n{stdout[-3000:]}\n{stderr[-5000:]}"
    job_ids = JOBID.findall(stderr)

    report(
        f"tiny workflow: local run (to the AGs) {local_seconds:.0f} s, SLURM run (to the report) "
        f"{slurm_seconds:.0f} s, SLURM jobs {job_ids}"
    )
    # one SLURM job per job of the workflow (all but the target rule `all`), each completed
    rules = re.findall(r"^rule (\w+):", stderr, re.MULTILINE)
    assert sorted(set(rules) - {"all"}) == sorted(
        ["download", "subset", "encode", "train", "sample", "evaluate", "report"]
    )
    assert len(job_ids) == len([r for r in rules if r != "all"]), stderr[-3000:]
    assert slurm_states(job_ids) == {job_id: "COMPLETED" for job_id in job_ids}
    slurm_logs = {p.stem for p in (cluster / ".snakemake" / "slurm_logs").rglob("*.log")}
    assert slurm_logs == set(job_ids)
    assert (cluster / "results" / "report" / "tiny.html").stat().st_size > 0
    # the same seed gives the same AGs, whichever way the jobs ran
    for path in ag_files:
        with np.load(local / path) as a, np.load(cluster / path) as b:
            assert sorted(a.files) == sorted(b.files)
            np.testing.assert_array_equal(a["haplotypes"], b["haplotypes"], err_msg=path)
            assert a["haplotypes"].shape[0] == config["n_ags"]


def test_gpus_per_training_becomes_an_sbatch_gpu_request(tmp_path):
    """No cluster needed: the dry run's resources, and the plugin's sbatch option for them."""
    utils = pytest.importorskip("snakemake_executor_plugin_slurm.utils")
    config = tiny_config()
    config["gpus_per_training"] = 1
    config["datasets"]["tiny"]["models"] = ["gan", "independent"]
    workdir = make_workdir(tmp_path, config)

    proc = snakemake(workdir, "--profile", "profiles/slurm", "--dry-run")

    jobs = re.findall(
        r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", proc.stdout, re.MULTILINE
    )
    train = {}
    for rule, resources in jobs:
        if rule == "train":
            values = dict(item.split("=", 1) for item in resources.split(", "))
            train[values["gpu"]] = values
    # the network model asks for the GPU, the baseline for none
    assert sorted(train) == ["0", "1"], proc.stdout[-3000:]

    class Job:  # the part of a Snakemake job the plugin reads
        def __init__(self, **resources):
            self.resources = type("Resources", (dict,), {"__getattr__": dict.__getitem__})(
                resources
            )

    assert utils.set_gres_string(Job(gpu=1)).split() == ["--gpus=1"]
    assert utils.set_gres_string(Job(gpu=1, gpu_model="a100")).split() == ["--gpus=a100:1"]
    assert utils.set_gres_string(Job(gpu=0)) == ""
