"""tools/check_certificate.py: an independent checker (numpy and safetensors only) that rederives the field
classes, enumerates the cases its own way, runs its own forward pass, and must agree with every shipped
certificate — and reject edited ones."""

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).parent.parent
CHECKER = ROOT / "tools" / "check_certificate.py"
# Run with numerate made unimportable: the checker must not need it.
BLOCK = (
    "import sys, runpy; sys.modules['numerate'] = None; sys.argv = sys.argv[1:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def run_checker(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK, str(CHECKER), *map(str, args)], capture_output=True, text=True, timeout=600
    )


def test_checker_imports_nothing_from_numerate():
    tree = ast.parse(CHECKER.read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.startswith("numerate")]
    assert set(n.split(".")[0] for n in names) <= {
        "__future__",
        "argparse",
        "hashlib",
        "json",
        "math",
        "sys",
        "pathlib",
        "numpy",
        "safetensors",
    }


# Small classes of each shipped certificate (the full checks take a minute each: bench/results/independent-check.md)
@pytest.mark.parametrize(
    "model, classes",
    [("add-proof", "0,1,2,3,4,5"), ("sub", "0,4,5,8"), ("iter-sum-proof", "2,4"), ("add-tiny", None)],
)
def test_checker_agrees_with_shipped_certificates(model, classes):
    extra = ["--classes", classes] if classes else []  # add-tiny: the whole proof, 60,200 cases
    out = run_checker(ROOT / "models" / model / "certificate.json", *extra)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "AGREES" in out.stdout


@pytest.fixture
def copy(tmp_path):
    folder = tmp_path / "add-proof"
    shutil.copytree(ROOT / "models" / "add-proof", folder)
    return folder


def _edit(folder, change):
    path = folder / "certificate.json"
    cert = json.loads(path.read_text())
    change(cert)
    path.write_text(json.dumps(cert))
    return path


def test_checker_rejects_changed_weights(copy):
    from safetensors.numpy import load_file, save_file

    w = load_file(str(copy / "model.safetensors"))
    w["head.weight"] = (w["head.weight"] * np.float32(1.01)).astype(np.float32)
    save_file(w, str(copy / "model.safetensors"))
    out = run_checker(copy / "certificate.json", "--classes", "4")
    assert out.returncode == 1 and "weights: sha256" in out.stdout
    assert "minimum margin" in out.stdout  # its own forward pass sees the change too


def test_checker_rejects_a_shortened_class_list(copy):
    path = _edit(copy, lambda c: c["argument"]["classes"].pop())
    out = run_checker(path, "--classes", "0")
    assert out.returncode == 1 and "12 found, 11 in the certificate" in out.stdout


def test_checker_rejects_an_edited_margin_and_case_count(copy):
    def change(c):
        c["argument"]["classes"][4]["min_margin"] += 0.5
        c["argument"]["classes"][5]["cases"] -= 1

    out = run_checker(_edit(copy, change), "--classes", "4,5")
    assert out.returncode == 1
    assert "class 4" in out.stdout and "minimum margin" in out.stdout and "class 5" in out.stdout


def test_checker_refuses_what_it_cannot_check(copy):
    out = run_checker(_edit(copy, lambda c: c["config"]["model"].update(pos="rope")))
    assert out.returncode == 2 and "coupling-2d" in out.stderr
