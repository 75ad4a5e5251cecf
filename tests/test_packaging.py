"""What a user gets from `pip install`: the built wheel holds every package, the zoo and the data
files, and runs from a fresh virtual environment outside the repository; the reference models
ship inside it and stay independent of the engine; CI tests at the pinned versions."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

#: distribution name -> the module it provides, for the core dependencies pyproject declares
MODULE_OF = {"pyyaml": "yaml"}


def _imports(path: Path) -> set[str]:
    """Top-level names of every module a Python file imports ("." for relative imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else node.module.split(".")[0])
    return names


def _requirement_name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req, maxsplit=1)[0].lower()


@pytest.mark.parametrize("group, code", [("dependencies", "archcalc"), ("torch", "archcalc"), ("test", "tests")])
def test_every_declared_dependency_is_imported(group, code):
    project = PYPROJECT["project"]
    declared = project["dependencies"] if group == "dependencies" else project["optional-dependencies"][group]
    used = set().union(*(_imports(p) for p in (ROOT / code).rglob("*.py")))
    for req in declared:
        name = _requirement_name(req)
        assert MODULE_OF.get(name, name) in used, f"{req} is declared but {code}/ never imports it"


def test_reference_models_do_not_import_the_engine():
    # An independent number cannot come from the code it checks: the refs import torch and
    # torchvision only (the stdlib aside), never archcalc, directly or relatively.
    refs = sorted((ROOT / "archcalc" / "torch" / "refs").glob("*.py"))
    assert len(refs) > 5
    for path in refs:
        bad = _imports(path) & {".", "archcalc"}
        assert not bad, f"{path.name} imports {bad}"


def test_spec_references_ship_with_the_package():
    """A `reference:` names timm or a module archcalc installs, never the test suite."""
    from archcalc.spec import zoo

    refs = {name: net.meta["reference"] for name, net in zoo().items() if net.meta.get("reference")}
    assert len(refs) > 30
    for name, ref in refs.items():
        module, _, attr = ref.partition(":")
        assert module == "timm" or (module.startswith("archcalc.torch.refs.") and attr.isidentifier()), f"{name}: {ref}"
        if module != "timm":
            path = ROOT / (module.replace(".", "/") + ".py")
            assert f"def {attr}(" in path.read_text(), f"{name}: {ref} not defined in {path.name}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"^# 2\.[^`]*?\n(pip install [^\n]*)", readme, re.M).group(1)
    assert "-c constraints.txt" in command and "python -m pytest" in command
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [command]


def test_constraints_pin_every_declared_dependency():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    # the versions the expected totals in specs/ were measured with
    assert (pins["torch"], pins["torchvision"], pins["timm"]) == ("2.14.1", "0.29.1", "1.0.31")
    project = PYPROJECT["project"]
    declared = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    for req in declared:
        assert "==" not in req, f"pyproject pins {req}: users' ranges stay open, pins go in constraints.txt"
        assert re.sub(r"[-_.]+", "-", _requirement_name(req)) in pins, f"constraints.txt does not pin {req}"


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_repository(tmp_path):
    """Build the wheel from a clean copy of the source (no stale build/), install it without
    dependencies into a fresh venv that sees the system's torch, and use it from a directory
    outside the repository, through the console script."""
    pytest.importorskip("torch")
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".benchmarks", ".venv"))
    run = lambda *cmd, **kw: subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)  # noqa: E731

    out = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(src))
    assert out.returncode == 0, out.stderr
    (wheel,) = (tmp_path / "dist").glob("archcalc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = [p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "archcalc").rglob("__init__.py")]
    assert {"archcalc/torch", "archcalc/torch/refs", "archcalc/commands"} <= set(packages)
    for package in packages:
        assert f"{package}/__init__.py" in names, f"wheel lacks the package {package}"
    # the zoo (top-level specs/, shipped as archcalc.specs) and the data files (lecture bank, JSON schema)
    expected = {f"archcalc/specs/{p.name}" for p in (ROOT / "specs").glob("*.yaml")}
    expected |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "archcalc" / "data").iterdir()}
    assert len(expected) > 20 and sorted(expected - names) == []

    venv = tmp_path / "venv"  # without its own pip (ensurepip takes seconds): this pip installs into it
    assert run(sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)).returncode == 0
    bin_ = venv / "bin"
    out = run(sys.executable, "-m", "pip", "--python", str(bin_ / "python"), "install", "--no-deps", "--no-index", str(wheel))
    assert out.returncode == 0, out.stderr

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ARCHCALC_SPECS")}
    env["OMP_NUM_THREADS"] = "1"
    use = lambda *cmd: run(*cmd, cwd=outside, env=env)  # noqa: E731

    out = use(str(bin_ / "python"), "-c", "import archcalc, archcalc.torch, archcalc.torch.refs; print(archcalc.__file__)")
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).is_relative_to(venv), f"imported {out.stdout.strip()}, not the installed wheel"

    out = use(str(bin_ / "archcalc"), "table", "vgg16")
    assert out.returncode == 0, out.stderr
    # VGG-16 by hand: 13 convs and 3 FC layers, weights + biases, = torchvision's num_params
    convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256), (256, 256),
             (256, 512), (512, 512), (512, 512), (512, 512), (512, 512), (512, 512)]
    fcs = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]
    params = sum(9 * i * o + o for i, o in convs) + sum(i * o + o for i, o in fcs)
    assert f"params        {params:,} " in out.stdout

    # the spec's reference is archcalc.torch.refs.resnet:resnet20_cifar: importable from the wheel
    out = use(str(bin_ / "archcalc"), "check", "resnet20_cifar", "--no-fvcore")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "reference archcalc.torch.refs.resnet:resnet20_cifar: exact match" in out.stdout
