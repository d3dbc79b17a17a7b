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
        "itertools",
        "json",
        "math",
        "re",
        "sys",
        "pathlib",
        "numpy",
        "safetensors",
    }


# Small classes of each shipped certificate (the full checks take minutes: bench/results/trust.md)
@pytest.mark.slow
@pytest.mark.parametrize(
    "model, classes",
    [
        ("add-proof", "0,1,2,3,5"),
        ("sub", "0,5,8"),
        ("iter-sum-step", "2,5"),
        ("mul/times-digit", "0,1,2,5"),
        ("add-tiny", None),
        ("copy", None),
    ],
)
def test_checker_agrees_with_shipped_certificates(model, classes):
    extra = ["--classes", classes] if classes else []  # add-tiny and copy: the whole proof
    out = run_checker(ROOT / "models" / model / "certificate.json", *extra)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "AGREES" in out.stdout


def test_checker_refuses_the_undecided_looped_model():
    out = run_checker(ROOT / "models" / "iter-sum-proof" / "certificate.json", "--classes", "2")
    assert out.returncode == 1 and "does not claim a proof" in out.stdout


def test_erf_is_within_its_stated_error():
    import math
    import runpy

    ns = runpy.run_path(str(CHECKER))
    x = np.concatenate([np.linspace(-8, 8, 400_001), np.random.default_rng(0).normal(0, 3, 200_000)])
    want = np.array([math.erf(v) for v in x])
    assert np.abs(ns["erf"](x) - want).max() <= ns["ERF_ERROR"] / 2  # math.erf itself is within an ulp or so


@pytest.fixture
def copy(tmp_path):
    folder = tmp_path / "add-tiny"
    shutil.copytree(ROOT / "models" / "add-tiny", folder)
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


def _widen(c):
    c["statement"] = c["statement"].replace("pair of non-negative integers", "pair of integers, negatives included")


def _swap(c):
    k = c["argument"]["classes"]
    k[0], k[1] = k[1], k[0]


FORGERIES = {
    "verdict": lambda c: c.update(verdict="refuted"),
    "bound": lambda c: c["rounding"].update(max_bound=1e-12),
    "class bound": lambda c: c["argument"]["classes"][4].update(max_bound=1e-12),
    "slack": lambda c: c["rounding"].update(min_lead_minus_bound=5.0),
    "statement": _widen,
    "precision": lambda c: c["rounding"].update(precision="float32"),
    "dropped class": lambda c: c["argument"]["classes"].pop(),
    "reordered classes": _swap,
    "margin and cases": lambda c: (
        c["argument"]["classes"][4].update(min_margin=c["argument"]["classes"][4]["min_margin"] + 0.5),
        c["argument"]["classes"][5].update(cases=c["argument"]["classes"][5]["cases"] - 1),
    ),
}
EXPECT = {
    "verdict": "does not claim a proof",
    "bound": "largest radius",
    "class bound": "class 4",
    "slack": "smallest lead - radius",
    "statement": "statement:",
    "precision": "precision",
    "dropped class": "9 found, 8 in the certificate",
    "reordered classes": "class 0: certificate has",
    "margin and cases": "class 5",
}


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_certificates_are_refused_by_the_checker_and_by_verify_check(copy, forgery, capsys):
    from numerate.cli import main

    path = _edit(copy, FORGERIES[forgery])
    out = run_checker(path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert EXPECT[forgery] in out.stdout, out.stdout
    assert main(["verify", "--check", str(path), "--quiet"]) == 1, forgery
    capsys.readouterr()


def test_a_changed_folder_config_is_refused(copy, capsys):
    from numerate.cli import main

    side = json.loads((copy / "config.json").read_text())
    side["config"]["model"]["test_recurrences"] = 2
    (copy / "config.json").write_text(json.dumps(side))
    out = run_checker(copy / "certificate.json")
    assert out.returncode == 1 and "model.test_recurrences is 2" in out.stdout
    assert main(["verify", "--check", str(copy / "certificate.json"), "--quiet"]) == 1
    assert "test_recurrences" in capsys.readouterr().out


def test_an_undecided_certificate_edited_to_proven_is_refused(tmp_path, capsys):
    """A near-tie that verify calls undecided, its certificate edited to say proven with a tiny bound: the
    checker recomputes the radius and refuses; `verify --check` re-derives the verdict and refuses; solve
    says it only compared hashes, and with --recheck that the certificate does not hold."""
    import io

    from mutants import near_tie
    from numerate import checkpoint
    from numerate.cli import main
    from numerate.commands.solve import solve_stream

    folder = tmp_path / "near-tie"
    checkpoint.save_model(folder, near_tie(checkpoint.load_model(ROOT / "models" / "copy"), gap=1e-4), {"step": 0})
    assert main(["verify", str(folder), "--out", str(folder / "certificate.json"), "--quiet"]) == 1
    good = json.loads((ROOT / "models" / "copy" / "certificate.json").read_text())

    def forge(c):
        c.update(verdict="proven", proven=True, statement=good["statement"])
        c["rounding"].update(max_bound=1e-7, min_lead_minus_bound=1e-4, open_cases=[])
        for k in c["argument"]["classes"]:
            k.update(max_bound=1e-7, undecided=0, min_slack=abs(k["min_slack"]))

    path = _edit(folder, forge)
    capsys.readouterr()
    out = run_checker(path)
    assert out.returncode == 1 and "does not clear its rounding radius" in out.stdout
    assert main(["verify", "--check", str(path), "--quiet"]) == 1
    capsys.readouterr()
    err = io.StringIO()
    solve_stream(folder, io.BytesIO(b"67\n"), io.StringIO(), err, device="cpu")
    assert "proof not re-derived" in err.getvalue()
    err = io.StringIO()
    solve_stream(folder, io.BytesIO(b"67\n"), io.StringIO(), err, device="cpu", recheck=True)
    assert "does NOT hold" in err.getvalue()


def test_checker_checks_a_procedure_folder(tmp_path):
    """A procedure folder: every step's certificate in full, each step's task, then the procedure's claim. Here
    a small one (add-tiny as the add step); a step of the wrong task is refused."""
    for name in ("add-tiny", "copy"):
        shutil.copytree(ROOT / "models" / name, tmp_path / name)
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "procedure.yaml").write_text(
        "procedure: long-multiplication\nsteps:\n  times: ../copy\n  add: ../add-tiny\n"
    )
    out = run_checker(proc)
    assert out.returncode == 1 and "was trained on 'copy', not times-digit" in out.stdout
    assert "DIFFERS: step add" not in out.stdout  # the add step itself agrees


def _rebind(folder, key, value):
    """Set model.KEY in the folder's config and in its certificate, with the computation hash that binds them:
    a folder and certificate that agree with each other on a changed computation."""
    import hashlib

    side = json.loads((folder / "config.json").read_text())
    side["config"]["model"][key] = value
    (folder / "config.json").write_text(json.dumps(side))
    cfg = side["config"]
    computation = {
        "task": {k: v for k, v in cfg["task"].items() if k not in ("train_lengths", "ood_lengths")},
        "format": cfg["format"],
        "model": cfg["model"],
        "vocab": side["vocab"],
    }
    digest = hashlib.sha256(json.dumps(computation, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def change(c):
        c["config"]["model"][key] = value
        c["binds"]["computation_sha256"] = digest

    return _edit(folder, change)


def test_checker_refuses_what_it_cannot_check(copy):
    """A folder and certificate that agree on a computation this checker does not know (RoPE): exit 2."""
    out = run_checker(_rebind(copy, "pos", "rope"))
    assert out.returncode == 2 and "coupling-2d" in out.stderr


@pytest.mark.parametrize("switch, value", [("memory", "titans"), ("halting", True)])
def test_a_switch_the_checker_does_not_compute_is_refused(copy, switch, value):
    """The model that runs would have a memory or a halting rule; the checker's forward pass has neither, so it
    must not certify the model by checking a smaller one."""
    out = run_checker(_rebind(copy, switch, value))
    assert out.returncode == 1 and f"model.{switch} is {value!r}" in out.stdout, out.stdout + out.stderr
    assert "class " not in out.stdout  # refused before any case is run


def test_a_tensor_the_checker_does_not_read_is_refused(copy):
    """Extra weights (here a tensor a memory module would read) with the certificate's hashes updated to the new
    file: the weights now hold more than the checked computation uses, and the checker says so."""
    import hashlib

    from safetensors.numpy import load_file, save_file

    w = load_file(str(copy / "model.safetensors"))
    w["blocks.0.memory.qkv.weight"] = np.zeros((3, 3), dtype=np.float32)
    save_file(w, str(copy / "model.safetensors"))
    digest = hashlib.sha256((copy / "model.safetensors").read_bytes()).hexdigest()
    path = _edit(copy, lambda c: (c.update(weights_sha256=digest), c["binds"].update(weights_sha256=digest)))
    out = run_checker(path)
    assert out.returncode == 1 and "'blocks.0.memory.qkv.weight' is not read" in out.stdout, out.stdout
    assert "weights: sha256" not in out.stdout


def test_a_folder_config_that_differs_is_refused_before_any_work(copy):
    side = json.loads((copy / "config.json").read_text())
    side["config"]["model"]["pos"] = "rope"
    (copy / "config.json").write_text(json.dumps(side))
    out = run_checker(copy / "certificate.json")
    assert out.returncode == 1 and "model.pos is 'rope'" in out.stdout and "class " not in out.stdout


def test_a_tied_folder_whose_head_is_not_its_embedding_is_refused_by_the_checker(tmp_path):
    """A folder and certificate that agree on model.tie_embeddings = true, with a weights file whose head is not
    the embedding: numerate's loader refuses it, and the checker must not certify the file's two matrices."""
    import hashlib

    folder = tmp_path / "add-270"
    shutil.copytree(ROOT / "models" / "add-270", folder)
    side = json.loads((folder / "config.json").read_text())
    side["config"]["model"]["tie_embeddings"] = True
    (folder / "config.json").write_text(json.dumps(side))
    cfg = side["config"]
    off = {"memory": "none", "halting": False, "tie_embeddings": False, "pos_rows": 16}  # switches at rest
    computation = {
        "task": {k: v for k, v in cfg["task"].items() if k not in ("train_lengths", "ood_lengths")},
        "format": cfg["format"],
        "model": {k: v for k, v in cfg["model"].items() if not (k in off and v == off[k])},
        "vocab": side["vocab"],
    }
    digest = hashlib.sha256(json.dumps(computation, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def change(c):
        c["config"]["model"]["tie_embeddings"] = True
        c["binds"]["computation_sha256"] = digest

    out = run_checker(_edit(folder, change))
    assert out.returncode == 1 and "tie_embeddings is on, but head.weight is not wte.weight" in out.stdout


def test_the_checker_reads_a_row_table_of_any_size():
    """models/add-270 is add-tiny with its row table cut to the 3 rows two-operand problems read."""
    out = run_checker(ROOT / "models" / "add-270")
    assert out.returncode == 0 and "AGREES" in out.stdout, out.stdout[-1000:] + out.stderr
