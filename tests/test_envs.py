"""The per-rule conda environments (envs/*.yaml) hold what each rule's code imports.

No conda is needed: the env files are read as YAML, the rules' `conda:` and `script:` directives
as text, and the imports of each rule script and of every module of the package it reaches are
walked with `ast`.
"""

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
ENVS = REPO / "envs"
RULES = REPO / "rules"
SCRIPTS = REPO / "scripts"
PACKAGE = "artificial_genomes"
EXPECTED_ENVS = {"data", "train", "evaluate"}
CHANNELS = ["conda-forge", "bioconda", "nodefaults"]
# name=major.minor: a pin that takes bug-fix releases but never a new feature release.
PIN = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._-]*)=(?P<version>\d+\.\d+)$")
PYTHON = "3.11"

# Import name -> conda package, where the two differ (otherwise they are the same).
CONDA_PACKAGE = {
    "allel": "scikit-allel",
    "torch": "pytorch",
    "ot": "pot",
    "yaml": "pyyaml",
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "skimage": "scikit-image",
}
# Conda package -> pip distribution, where the two differ.
PIP_NAME = {"pytorch": "torch"}
# Conda packages with no Python module (command-line tools and libraries).
NOT_PYTHON = {"python", "htslib", "bcftools", "samtools", "tabix"}
# Names that may be imported without being in an env (nothing here so far).
PROVIDED_ELSEWHERE: set[str] = set()


# --- helpers -------------------------------------------------------------------------------------
def load_env(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def env_packages(path):
    """{conda package: 'major.minor'} of an env file."""
    pins = {}
    for dep in load_env(path)["dependencies"]:
        match = PIN.match(dep)
        assert match, f"{path.name}: {dep!r} is not pinned as name=major.minor"
        pins[match["name"]] = match["version"]
    return pins


def rules_with_envs():
    """{rule: {"conda": path or None, "script": path or None, "file": smk name}} from rules/."""
    rules = {}
    for smk in sorted(RULES.glob("*.smk")):
        text = smk.read_text()
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.MULTILINE | re.DOTALL):
            name, body = match.groups()
            info = {"file": smk.name}
            for directive in ("conda", "script"):
                found = re.search(
                    rf"^\s+{directive}:\s*\n?\s*[\"']([^\"']+)[\"']", body, re.MULTILINE
                )
                info[directive] = (smk.parent / found[1]).resolve() if found else None
            rules[name] = info
    return rules


def _optional_import_lines(tree):
    """Line numbers of imports inside `try: ... except ImportError` or `if TYPE_CHECKING:`."""
    lines = set()
    for node in ast.walk(tree):
        guarded = []
        if isinstance(node, ast.Try):
            caught = {
                getattr(h.type, "id", None)
                for h in node.handlers
                if h.type is not None and not isinstance(h.type, ast.Tuple)
            }
            for h in node.handlers:
                if isinstance(h.type, ast.Tuple):
                    caught |= {getattr(e, "id", None) for e in h.type.elts}
            if caught & {"ImportError", "ModuleNotFoundError"}:
                guarded = node.body
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded = node.body
        for stmt in guarded:
            for sub in ast.walk(stmt):
                if isinstance(sub, (ast.Import, ast.ImportFrom)):
                    lines.add(sub.lineno)
    return lines


def _module_file(root, dotted):
    """The file of module `dotted` under `root`, or None if it is not a module there."""
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def third_party_imports(script, root=SCRIPTS, package=PACKAGE):
    """Top-level third-party modules imported by `script` and every package module it reaches.

    Imports anywhere in a file count (inside functions too: they run when the function does),
    except those guarded by ``except ImportError`` or ``if TYPE_CHECKING``. Importing a
    submodule also imports its parent packages.

    Parameters
    ----------
    script : pathlib.Path
        A rule script (outside the package) or a module file.
    root : pathlib.Path
        The folder that holds the package (what is on ``sys.path``).
    package : str
        Name of the project's package; its modules are followed, not reported.

    Returns
    -------
    dict
        {top-level module name: sorted list of files (relative to `root`) that import it}.
    """
    found = {}
    todo = [(script, None)]
    seen = set()
    while todo:
        path, dotted = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        optional = _optional_import_lines(tree)
        is_package = path.name == "__init__.py"
        targets = []
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno in optional:
                continue
            if isinstance(node, ast.Import):
                targets += [(alias.name, []) for alias in node.names]
                continue
            if node.level == 0:
                base = node.module
            else:
                assert dotted is not None, f"{path}: relative import outside the package"
                parts = dotted.split(".") if is_package else dotted.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets.append((base, [alias.name for alias in node.names]))
        for base, names in targets:
            top = base.split(".")[0]
            if top == package:
                assert _module_file(root, base) is not None, (
                    f"{path.relative_to(root)} imports {base}, which does not exist"
                )
                modules = [base] + [f"{base}.{name}" for name in names]
                for module in modules:
                    parts = module.split(".")
                    # the module itself and every parent package it imports on the way
                    for end in range(1, len(parts) + 1):
                        file = _module_file(root, ".".join(parts[:end]))
                        if file is not None:
                            todo.append((file, ".".join(parts[:end])))
            elif top not in sys.stdlib_module_names:
                found.setdefault(top, set()).add(str(path.relative_to(root)))
    return {name: sorted(files) for name, files in found.items()}


def requirements():
    """{normalised pip name: Requirement} from requirements.txt."""
    reqs = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            reqs[_normalise(req.name)] = req
    return reqs


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


# --- the env files -------------------------------------------------------------------------------
ENV_FILES = sorted(ENVS.glob("*.yaml"))


def test_the_three_envs_exist():
    assert {p.stem for p in ENV_FILES} == EXPECTED_ENVS


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.stem)
def test_env_file_is_named_from_pinned_channels_and_pinned(path):
    env = load_env(path)
    assert set(env) == {"name", "channels", "dependencies"}
    assert env["name"] == f"artificial-genomes-{path.stem}"
    assert env["channels"] == CHANNELS
    pins = env_packages(path)
    assert len(pins) == len(env["dependencies"]), f"{path.name} lists a package twice"
    assert pins["python"] == PYTHON
    assert pins["numpy"], "every stage reads the haplotype npz files"


def test_rules_name_env_files_that_exist():
    rules = rules_with_envs()
    assert {"download", "subset", "encode", "train", "sample", "evaluate", "report"} <= set(rules)
    used = set()
    for name, info in rules.items():
        if info["script"] is None:
            continue
        assert info["conda"] is not None, f"rule {name} ({info['file']}) has no conda: env"
        assert info["conda"].parent == ENVS.resolve(), f"rule {name}: env outside envs/"
        assert info["conda"].is_file(), f"rule {name} names {info['conda']}, which is missing"
        assert info["script"].is_file(), f"rule {name} names {info['script']}, which is missing"
        used.add(info["conda"].stem)
    assert used == EXPECTED_ENVS, f"envs no rule uses: {EXPECTED_ENVS - used}"


# --- what the code imports -----------------------------------------------------------------------
def test_import_walk_follows_package_relative_lazy_and_parent_imports(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("import json\n")
    (pkg / "sub" / "__init__.py").write_text("import numpy as np\n")
    (pkg / "sub" / "leaf.py").write_text(
        "from .. import other\n"
        "try:\n    import numba\nexcept ImportError:\n    numba = None\n"
        "def lazy():\n    from ..other import thing\n    import torch.nn\n"
    )
    (pkg / "other.py").write_text("from allel import HaplotypeArray\nthing = 1\n")
    (pkg / "unused.py").write_text("import pandas\n")
    script = tmp_path / "script.py"
    script.write_text("from pkg.sub.leaf import lazy\nimport os\n")

    found = third_party_imports(script, root=tmp_path, package="pkg")

    # numpy via the parent package, allel via a relative import, torch inside a function; not
    # json/os (stdlib), numba (optional), pandas (never imported).
    assert found == {
        "numpy": ["pkg/sub/__init__.py"],
        "allel": ["pkg/other.py"],
        "torch": ["pkg/sub/leaf.py"],
    }


RULES_WITH_SCRIPTS = {n: i for n, i in rules_with_envs().items() if i["script"] is not None}


@pytest.mark.parametrize("rule", sorted(RULES_WITH_SCRIPTS))
def test_rule_env_provides_every_import_of_its_code(rule):
    info = RULES_WITH_SCRIPTS[rule]
    imports = third_party_imports(info["script"])
    pins = env_packages(info["conda"])
    missing = {
        f"{name} (conda package {CONDA_PACKAGE.get(name, name.lower())}, imported by "
        f"{', '.join(files)})"
        for name, files in imports.items()
        if CONDA_PACKAGE.get(name, name.lower()) not in pins and name not in PROVIDED_ELSEWHERE
    }
    assert not missing, f"envs/{info['conda'].name} of rule {rule} lacks: {sorted(missing)}"


def test_envs_hold_no_python_package_that_their_rules_do_not_import():
    imported = {}
    for info in RULES_WITH_SCRIPTS.values():
        names = third_party_imports(info["script"])
        conda = {CONDA_PACKAGE.get(name, name.lower()) for name in names}
        imported.setdefault(info["conda"].name, set()).update(conda)
    for path in ENV_FILES:
        unused = set(env_packages(path)) - NOT_PYTHON - imported.get(path.name, set())
        assert not unused, f"envs/{path.name}: no rule that uses it imports {sorted(unused)}"


def test_requirements_cover_all_envs_with_the_same_versions():
    reqs = requirements()
    needed = {}
    for path in ENV_FILES:
        for package, version in env_packages(path).items():
            if package not in NOT_PYTHON:
                needed.setdefault(package, {})[path.name] = version
    for info in RULES_WITH_SCRIPTS.values():
        for name in third_party_imports(info["script"]):
            needed.setdefault(CONDA_PACKAGE.get(name, name.lower()), {})
    problems = []
    for package, versions in sorted(needed.items()):
        pip = _normalise(PIP_NAME.get(package, package))
        if pip not in reqs:
            problems.append(f"{pip} is not in requirements.txt")
            continue
        if len(set(versions.values())) > 1:
            problems.append(f"{package} is pinned differently across envs: {versions}")
        for env, version in versions.items():
            if not reqs[pip].specifier.contains(version, prereleases=True):
                problems.append(f"{env} pins {package}={version}, requirements say {reqs[pip]}")
    assert not problems, "\n".join(problems)


def test_slurm_plugin_is_a_requirement():
    reqs = requirements()
    plugin = reqs.get("snakemake-executor-plugin-slurm")
    assert plugin is not None, "profiles/slurm needs snakemake-executor-plugin-slurm"
    assert plugin.specifier.contains("2.8") and not plugin.specifier.contains("3.0")
