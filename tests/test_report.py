"""run_evaluate on a tiny cohort, and the HTML report built from two evaluation folders."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from artificial_genomes.errors import InputError
from artificial_genomes.evaluate import FIGURES, run_evaluate
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.metrics import adversarial_accuracy
from artificial_genomes.report import write_report


def tiny_real(n_samples=40, n_variants=60, seed=0) -> HaplotypeSet:
    """Two populations, one monomorphic site, every other person in the test half."""
    rng = np.random.default_rng(seed)
    p = np.where(np.arange(n_variants) % 3 == 0, 0.15, 0.55)
    first = rng.random((n_samples, n_variants)) < p
    second = rng.random((n_samples, n_variants)) < p[::-1]
    haplotypes = np.concatenate([first, second]).astype(np.int8)
    haplotypes[:, 7] = 0  # monomorphic: must give no NaN anywhere
    n_people = haplotypes.shape[0] // 2
    return HaplotypeSet(
        haplotypes=haplotypes,
        chrom=np.array(["1"] * (n_variants // 2) + ["2"] * (n_variants - n_variants // 2)),
        pos=np.concatenate([np.arange(n_variants // 2), np.arange(n_variants - n_variants // 2)])
        * 137
        + 1000,
        id=[f"rs{i}" for i in range(n_variants)],
        ref=["A"] * n_variants,
        alt=["G"] * n_variants,
        samples=[f"S{i}" for i in range(n_people)],
        population=["POP1"] * (n_people // 2) + ["POP2"] * (n_people - n_people // 2),
        super_population=["EUR"] * (n_people // 2) + ["AFR"] * (n_people - n_people // 2),
        split=np.where(np.arange(n_people) % 2 == 0, "train", "test"),
    )


def ag_set(real: HaplotypeSet, haplotypes) -> HaplotypeSet:
    n = haplotypes.shape[0] // 2
    blank = [""] * n
    return HaplotypeSet(
        haplotypes=haplotypes,
        chrom=real.chrom,
        pos=real.pos,
        id=real.id,
        ref=real.ref,
        alt=real.alt,
        samples=[f"AG{i}" for i in range(n)],
        population=blank,
        super_population=blank,
        split=blank,
    )


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    """Two evaluated fake models: copies of training haplotypes, and independent sites."""
    root = tmp_path_factory.mktemp("eval")
    real = tiny_real()
    real.save(root / "haplotypes.npz")
    train = real.train().haplotypes
    rng = np.random.default_rng(1)
    models = {
        "copy": train[rng.integers(0, train.shape[0], 50)],
        "independent": (rng.random((50, real.n_variants)) < train.mean(axis=0)).astype(np.int8),
    }
    folders, results = {}, {}
    for name, haplotypes in models.items():
        ag_set(real, haplotypes).save(root / f"{name}.npz")
        folder = root / name
        results[name] = run_evaluate(
            root / "haplotypes.npz",
            root / f"{name}.npz",
            folder / "metrics.json",
            folder / "figures",
            model=name,
            dataset="tiny",
            seed=3,
        )
        folders[name] = str(folder)
    return root, folders, results


def test_metrics_json_is_complete_and_nan_free(evaluations):
    root, folders, results = evaluations
    for name, folder in folders.items():
        text = (Path(folder) / "metrics.json").read_text()
        assert "NaN" not in text and "Infinity" not in text
        stored = json.loads(text)
        assert stored == results[name]
        assert (stored["n_ag"], stored["n_train"], stored["n_test"], stored["n_variants"]) == (
            50,
            40,
            40,
            60,
        )
        for key in ("aats_train", "aats_test", "af_r_train", "r2_correlation", "pca_w1_train"):
            assert isinstance(stored[key], float)
        assert stored["timings_s"]["total"] > 0
        for figure in FIGURES.values():
            png = (Path(folder) / "figures" / figure).read_bytes()
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
    copy = results["copy"]
    assert copy["exact_copies_train"] == 50 and copy["nn_distance_mean_ag_train"] == 0.0
    assert copy["aa_syn_train"] == 0.0  # every copy has a training haplotype at distance 0
    assert copy["privacy_loss"] == pytest.approx(copy["aats_test"] - copy["aats_train"])
    assert copy["privacy_loss"] > 0.2
    # the yardstick does not depend on the model; with equal halves nothing is subsampled
    assert results["independent"]["yardstick"] == copy["yardstick"]
    real = HaplotypeSet.load(root / "haplotypes.npz")
    direct = adversarial_accuracy(real.train().haplotypes, real.test().haplotypes)
    assert copy["yardstick"]["aats"] == direct["aats"]
    assert copy["yardstick"]["aa_truth"] == direct["aa_truth"]


def test_evaluate_refuses_ags_on_other_sites(tmp_path):
    real = tiny_real()
    real.save(tmp_path / "haplotypes.npz")
    other = ag_set(real, real.haplotypes[:10])
    other.pos = other.pos + 1
    other.save(tmp_path / "ag.npz")
    with pytest.raises(InputError, match="not on the sites"):
        run_evaluate(
            tmp_path / "haplotypes.npz", tmp_path / "ag.npz", tmp_path / "m.json", tmp_path / "f"
        )
    assert not (tmp_path / "m.json").exists()


def test_report_is_self_contained(evaluations, tmp_path):
    _, folders, results = evaluations
    html_out = tmp_path / "report" / "tiny.html"
    write_report("tiny", folders, html_out)
    page = html_out.read_text()
    assert "<table>" in page and "<h1>Artificial genomes: tiny</h1>" in page
    assert page.count('src="data:image/png;base64,') == 2 * len(FIGURES)
    assert not re.search(r"https?://", page)
    assert "<link" not in page and "<script" not in page
    rows = re.findall(r"<tr>(.*?)</tr>", page.split("<tbody>")[1].split("</tbody>")[0])
    assert [re.search(r"<td>(.*?)</td>", row).group(1) for row in rows] == ["copy", "independent"]
    assert "real test vs train" in page
    # the copy model has the most exact copies, so "independent" holds the best (lowest) count
    copies = re.findall(r"<td( class=\"best\")?>(\d+) \(", page)
    assert copies[:2] == [("", "50"), (' class="best"', "0")]
    # the metrics table sits next to the page, one row per model plus the yardstick
    table = (tmp_path / "report" / "metrics.tsv").read_text().splitlines()
    header = table[0].split("\t")
    assert header[0] == "model" and "aats_train" in header and "privacy_loss" in header
    assert [line.split("\t")[0] for line in table[1:]] == [
        "copy",
        "independent",
        "real test vs train",
    ]
    column = header.index("exact_copies_train")
    assert table[1].split("\t")[column] == str(results["copy"]["exact_copies_train"])
    assert not list(tmp_path.glob("report/.*"))  # no temporary files left behind


def test_report_tsv_path_and_missing_metrics(evaluations, tmp_path):
    _, folders, _ = evaluations
    write_report("tiny", folders, tmp_path / "a.html", title="Mine", tsv_out=tmp_path / "t.tsv")
    assert "<title>Mine</title>" in (tmp_path / "a.html").read_text()
    assert (tmp_path / "t.tsv").read_text().startswith("model\t")
    with pytest.raises(InputError, match="no metrics.json"):
        write_report("tiny", {"ghost": str(tmp_path / "nowhere")}, tmp_path / "b.html")
