"""`snakemake --report` after a tiny run: every evaluation figure, each with its own caption."""

import html
import json
import re

import pytest

from artificial_genomes.evaluate import FIGURES
from artificial_genomes.report import SECTIONS
from workflow_utils import make_workdir, snakemake, tiny_config

MODELS = ["independent", "copy"]  # baselines: no training, so the run takes seconds per step


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    """The tiny workflow with two baseline models, then its Snakemake report (HTML)."""
    config = tiny_config()
    config["datasets"]["tiny"]["models"] = MODELS
    workdir = make_workdir(tmp_path_factory.mktemp("snakemake_report"), config)
    snakemake(workdir, "--cores", "2")
    snakemake(workdir, "--report", "report.html")
    return (workdir / "report.html").read_text(encoding="utf-8")


def caption_of(page, path):
    """The rendered caption the report records for one result file (its JSON string)."""
    start = page.index(json.dumps(path) + ": {")
    found = re.compile(r'"caption": ').search(page, start)
    value, _ = json.JSONDecoder().raw_decode(page, found.end())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", value)).split())


@pytest.mark.slow
def test_every_figure_has_the_caption_of_its_kind(report_page):
    how = {key: text for _, figures in SECTIONS for key, text in figures}
    for model in MODELS:
        for key, name in FIGURES.items():
            caption = caption_of(report_page, f"results/eval/tiny/{model}/figures/{name}")
            assert " ".join(how[key].split()) in caption, (model, name)
            assert f"Model {model}, dataset tiny" in caption
    html_caption = caption_of(report_page, "results/report/tiny.html")
    assert "Self-contained comparison of all models on dataset tiny" in html_caption
