"""A model folder has one meaning: its tensors are float32, and every reader (the loader, verify, solve and the
independent checker) computes with exactly those numbers. A folder stored otherwise is refused by all of them,
with exit code 2, never rounded by one reader and read as it is by another."""

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from test_checker import run_checker

ROOT = Path(__file__).parent.parent


def _rehash(folder: Path) -> None:
    """Bind the folder's config and certificate to its (new) weights file, as a forger would."""
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    side = json.loads((folder / "config.json").read_text())
    side["weights_sha256"] = digest
    (folder / "config.json").write_text(json.dumps(side, indent=2))
    cert_path = folder / "certificate.json"
    cert = json.loads(cert_path.read_text())
    cert["weights_sha256"] = digest
    cert["binds"]["weights_sha256"] = digest
    cert_path.write_text(json.dumps(cert, indent=2))


def float64_mutant(src: Path, dst: Path, wrong: str = "9", right: str = "2") -> Path:
    """A copy of `src` stored as float64, with the head row of digit `wrong` moved towards the row of `right` by
    less than half a float32 step in every entry: rounded to float32 it is the shipped model, read as it is it
    is another model."""
    from safetensors.numpy import load_file, save_file

    shutil.copytree(src, dst)
    w = {k: v.astype(np.float64) for k, v in load_file(str(dst / "model.safetensors")).items()}
    vocab = json.loads((dst / "config.json").read_text())["vocab"]
    head = w["head.weight"]
    row, toward = head[vocab.index(wrong)], head[vocab.index(right)]
    half_step = np.spacing(np.abs(row).astype(np.float32)).astype(np.float64) / 2
    head[vocab.index(wrong)] = row + np.sign(toward - row) * 0.99 * half_step
    assert np.array_equal(head.astype(np.float32), load_file(str(src / "model.safetensors"))["head.weight"])
    save_file(w, str(dst / "model.safetensors"))
    _rehash(dst)
    return dst


@pytest.fixture(params=["add-tiny", "page-add"])
def mutant(request, tmp_path):
    return float64_mutant(ROOT / "models" / request.param, tmp_path / request.param)


def test_the_loader_refuses_a_folder_not_stored_as_float32(mutant):
    from numerate.checkpoint import load_model
    from numerate.errors import UsageError

    with pytest.raises(UsageError, match="stored as float64.*float32"):
        load_model(mutant)


def test_the_checker_refuses_a_folder_not_stored_as_float32(mutant):
    out = run_checker(mutant / "certificate.json", "--classes", "0")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "float32" in out.stderr and "AGREES" not in out.stdout


def test_verify_and_verify_check_refuse_a_folder_not_stored_as_float32(mutant, capsys):
    from numerate.cli import main

    assert main(["verify", str(mutant), "--quiet"]) == 2
    assert main(["verify", "--check", str(mutant / "certificate.json"), "--quiet"]) == 2
    assert "float32" in capsys.readouterr().err


def test_solve_refuses_a_folder_not_stored_as_float32(mutant, capsys):
    from numerate.cli import main

    stdin = io.TextIOWrapper(io.BytesIO(b"99+20\n"))
    import sys

    old = sys.stdin
    sys.stdin = stdin
    try:
        assert main(["solve", str(mutant), "--quiet"]) == 2
    finally:
        sys.stdin = old
    out = capsys.readouterr()
    assert out.out == "" and "float32" in out.err


@pytest.mark.slow
def test_a_procedure_whose_add_step_is_not_float32_is_refused(tmp_path, capsys):
    """models/mul with its add step replaced by a float64 copy of add-proof: the checker and solve refuse it."""
    from numerate.commands.solve import solve_stream
    from numerate.errors import UsageError

    proc = tmp_path / "mul"
    shutil.copytree(ROOT / "models" / "mul" / "times-digit", proc / "times-digit")
    float64_mutant(ROOT / "models" / "add-proof", tmp_path / "add-proof")
    (proc / "procedure.yaml").write_text((ROOT / "models" / "mul" / "procedure.yaml").read_text())
    out = run_checker(proc)
    assert out.returncode == 2 and "float32" in out.stderr, out.stdout + out.stderr
    with pytest.raises(UsageError, match="float32"):
        solve_stream(proc, io.BytesIO(b"890751*225655\n"), io.StringIO(), io.StringIO(), device="cpu")


def test_weights_that_are_not_finite_are_refused_by_every_reader(tmp_path):
    from safetensors.numpy import load_file, save_file

    from numerate.checkpoint import load_model
    from numerate.errors import UsageError

    folder = tmp_path / "add-tiny"
    shutil.copytree(ROOT / "models" / "add-tiny", folder)
    w = load_file(str(folder / "model.safetensors"))
    w["ln_f.bias"][0] = np.inf
    save_file(w, str(folder / "model.safetensors"))
    _rehash(folder)
    with pytest.raises(UsageError, match="not finite"):
        load_model(folder)
    out = run_checker(folder / "certificate.json", "--classes", "0")
    assert out.returncode == 2 and "not finite" in out.stderr


def test_saving_writes_float32_and_refuses_values_float32_cannot_hold(tmp_path):
    import torch

    import numerate
    from numerate.checkpoint import load_model, save_model

    model = numerate.load(ROOT / "models" / "add-tiny")
    saved = model.save(tmp_path / "again")
    assert load_model(saved).model.head.weight.dtype == torch.float32
    bundle = load_model(ROOT / "models" / "add-tiny")
    bundle.model.double()
    with torch.no_grad():
        bundle.model.head.weight[0, 0] += 1e-12
    with pytest.raises(ValueError, match="float32"):
        save_model(tmp_path / "other", bundle, {})
