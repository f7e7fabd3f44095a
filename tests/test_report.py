"""run_evaluate on a tiny cohort, and the HTML report built from two evaluation folders."""

import html
import json
import re
import types
from pathlib import Path

import jinja2
import numpy as np
import pytest

from artificial_genomes.errors import InputError
from artificial_genomes.evaluate import FIGURES, run_evaluate
from artificial_genomes.haplotypes import HaplotypeSet
from artificial_genomes.metrics import adversarial_accuracy
from artificial_genomes.report import SECTIONS, write_report

REPO = Path(__file__).resolve().parents[1]


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


def test_new_metrics_are_recorded_with_their_yardstick(evaluations):
    _, _, results = evaluations
    copy, independent = results["copy"], results["independent"]
    for result in (copy, independent):
        for key in ("sfs_distance", "pca_emd_train", "fst_ag", "population_share_tv", "mia_auc"):
            assert isinstance(result[key], float), key
        for gap in (1, 4):
            assert isinstance(result[f"three_point_r_gap{gap}"], float)
        # 30 SNPs per contig (29 LD SNPs on one): no triplet (i, i + 16, i + 32) fits, so no
        # value rather than 0, and the summary averages the other groups
        assert result["three_point_r_gap16"] is None
        assert result["three_point"]["groups"]["gap16"]["n_triplets"] == 0
        groups = result["three_point"]["groups"]
        used = [groups[g]["r_ag"] for g in ("gap1", "gap4", "random")]
        assert result["three_point_r"] == pytest.approx(np.mean(used))
        assert result["sfs"]["n_haplotypes"] == 40  # min(40 train, 40 test, 50 AGs)
        structure = result["structure"]
        assert structure["level"] == "super_population"
        level = structure["levels"]["super_population"]
        assert level["groups"] == ["AFR", "EUR"] and level["share_train"] == [0.5, 0.5]
        assert level["knn_accuracy_test"] > 0.9  # the two toy populations are well apart
    for key in ("sfs_distance", "pca_emd", "fst_ag", "population_share_tv", "three_point_r_gap1"):
        assert isinstance(copy["yardstick"][key], float), key
    # copies of training haplotypes give them away; independent sites keep no trace of anyone
    assert copy["mia_auc"] > 0.75
    assert abs(independent["mia_auc"] - 0.5) < abs(copy["mia_auc"] - 0.5)
    # a training haplotype is at distance 0 from an AG exactly when it was copied
    root = evaluations[0]
    copied = {row.tobytes() for row in HaplotypeSet.load(root / "copy.npz").haplotypes}
    train = HaplotypeSet.load(root / "haplotypes.npz").train().haplotypes
    assert copy["mia"]["dcr_zero_train"] == sum(row.tobytes() in copied for row in train)
    # independent sites lose the structure: more F_ST and a farther PC1-PC2 cloud than copies
    assert independent["fst_ag"] > copy["fst_ag"]
    assert independent["pca_emd_train"] > copy["pca_emd_train"]
    assert independent["three_point_r"] < 0.5 < copy["three_point_r"]


def test_collapsed_ags_give_finite_metrics(tmp_path):
    """Every AG the same all-REF haplotype: monomorphic everywhere, one label, no NaN."""
    real = tiny_real()
    real.save(tmp_path / "haplotypes.npz")
    ag_set(real, np.zeros((50, real.n_variants), dtype=np.int8)).save(tmp_path / "ag.npz")
    result = run_evaluate(
        tmp_path / "haplotypes.npz", tmp_path / "ag.npz", tmp_path / "m.json", tmp_path / "f"
    )
    text = (tmp_path / "m.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert result["n_monomorphic_ag"] == real.n_variants
    assert result["af_r_train"] == 0.0 and result["r2_correlation"] == 0.0
    assert result["three_point_r"] == 0.0
    # all sites in the monomorphic class: the spectrum keeps only the training set's
    # monomorphic site in common with it (1 of 60)
    assert result["sfs_distance"] == pytest.approx(1 - 1 / 60)
    assert result["sfs"]["classes"]["ag"]["segregating"] == 0.0
    # identical AGs share one label: half the real shares are missing
    assert result["population_share_tv"] == 0.5
    assert result["structure"]["levels"]["super_population"]["groups_without_ag"] == 1
    assert 0.0 <= result["mia_auc"] <= 1.0


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
    assert page.count('class="family"') == 6  # one header cell per metric family
    assert "F<sub>ST</sub> real test (k-NN)" in page  # the per-population table
    for _, figures in SECTIONS:
        for _, how in figures:
            assert html.escape(how) in page
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


def test_snakemake_report_captions_match_the_html_report():
    """report/figure.rst gives each figure of rule evaluate the sentence of the HTML page."""
    template = jinja2.Environment().from_string((REPO / "report" / "figure.rst").read_text())
    for _, figures in SECTIONS:
        for key, how in figures:
            stem = FIGURES[key].removesuffix(".png")
            wildcards = types.SimpleNamespace(name=stem, model="gan", dataset="lct")
            caption = template.render(snakemake=types.SimpleNamespace(wildcards=wildcards))
            assert " ".join(how.split()) in " ".join(caption.split()), stem
            assert "Model **gan**, dataset **lct**" in caption
    assert {key for _, figures in SECTIONS for key, _ in figures} == set(FIGURES)
