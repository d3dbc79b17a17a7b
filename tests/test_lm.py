"""Language models behind one interface: representations, prompts, the OpenAI-compatible adapter against a fake
server on 127.0.0.1 (right, off by one, malformed, slow, failing), the response cache, `numerate probe` end to end,
numerate's own models through the same interface, and a tiny Hugging Face model built from a config."""

import json
import math
import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from fake_openai import FakeServer, arithmetic_solver  # noqa: E402

from numerate.cli import main  # noqa: E402
from numerate.lm.base import Request  # noqa: E402
from numerate.lm.prompts import build_prompt, extract, requests_for, shot_problems  # noqa: E402
from numerate.lm.representations import REPRESENTATIONS  # noqa: E402
from numerate.tasks import get_task  # noqa: E402
from numerate.tasks.base import Problem  # noqa: E402

REPS = REPRESENTATIONS.names()


@pytest.fixture
def run(capsys):
    def call(argv):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return call


def probe_argv(server, tmp_path, *extra, cache=True):
    argv = ["probe", "--openai-base-url", server.url, "--model", "fake", "--out", str(tmp_path / "out"), "--quiet"]
    argv += ["--cache", str(tmp_path / "cache.sqlite")] if cache else ["--no-cache"]
    return argv + list(extra)


def results(tmp_path):
    meta = json.loads((tmp_path / "out" / "results.json").read_text())
    records = [json.loads(line) for line in (tmp_path / "out" / "responses.jsonl").read_text().splitlines()]
    return meta["rows"], records


# --- representations and prompts ---------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REPS), st.integers(min_value=-(10**60), max_value=10**60))
def test_every_representation_reads_back_what_it_writes(name, n):
    rep = REPRESENTATIONS.get(name)
    assert rep.parse(rep.render(n)) == n


@pytest.mark.parametrize(
    "name, text",
    [
        ("plain", "579."),
        ("plain", "The answer is 579"),
        ("plain", "5 7 9"),
        ("plain", "٥٧٩"),  # Arabic-Indic digits are digits to Python's \d, not to us
        ("plain", ""),
        ("commas-right", "1234"),
        ("commas-right", "12,34"),
        ("commas-right", "123,4"),
        ("commas-left", "1,234"),
        ("spaced", "12 3"),
        ("spaced", "1  2"),
        ("reversed", "-"),
    ],
)
def test_representations_refuse_anything_else(name, text):
    assert REPRESENTATIONS.get(name).parse(text) is None


def test_extraction_reads_the_first_line_strictly():
    rep = REPRESENTATIONS.get("plain")
    assert extract(" 579\n12+3=15", rep) == 579  # a completion that goes on with the next example
    assert extract("\n579", rep) == 579
    assert extract("579 is the sum", rep) is None
    assert extract(None, rep) is None


def test_prompts_end_at_the_equals_sign_with_worked_examples_before():
    task = get_task("addition")
    plain, spaced = REPRESENTATIONS.get("plain"), REPRESENTATIONS.get("spaced")
    shots = [Problem((12, 34)), Problem((56, 78))]
    assert build_prompt(task, Problem((123, 456)), plain, shots, chat=False) == "12+34=46\n56+78=134\n123+456="
    assert build_prompt(task, Problem((123, 456)), spaced, [], chat=False) == "1 2 3 + 4 5 6 ="
    chat = build_prompt(task, Problem((123, 456)), plain, shots[:1], chat=True)
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    assert chat[-1]["content"] == "123+456=" and chat[2]["content"] == "46"
    # the worked examples of a cell are fixed by the seed and differ from its test problems
    assert shot_problems(task, "uniform", (5, 5), 3, 1) == shot_problems(task, "uniform", (5, 5), 3, 1)
    reqs = requests_for(get_task("subtraction"), [Problem((3, 10))], plain, [], chat=False)
    assert reqs[0].prompt == "3-10="


# --- the OpenAI-compatible adapter ---------------------------------------------------------------------------------


def test_probe_scores_a_right_server_100_and_an_off_by_one_server_0(tmp_path, run):
    solve, off = arithmetic_solver()
    for rule, expected in (("right", 1.0), ("off-by-one", 0.0)):
        with FakeServer(solve, rule) as server:
            server.off_by_one = off
            code, out, err = run(probe_argv(server, tmp_path, "--lengths", "1-20", "--samples", "20", cache=False))
        assert code == 0, err
        rows, records = results(tmp_path)
        assert len(rows) == 20 and all(r["exact_match"] == expected for r in rows)
        assert len(records) == 400 and all(r["status"] == ("right" if expected else "wrong") for r in records)
        if not expected:  # off by one: the wrong digit is the lowest one (or a carry out of it)
            tenths = [sum(t) for t in zip(*(r["wrong_digit_tenths"] for r in rows))]
            assert tenths[0] == max(tenths)
            assert "wrong digits by tenth" in out


def test_malformed_and_failing_replies_are_counted_never_crash(tmp_path, run):
    solve, _ = arithmetic_solver()
    with FakeServer(solve, "malformed") as server:
        code, out, _ = run(probe_argv(server, tmp_path, "--lengths", "3", "--samples", "20", cache=False))
    rows, records = results(tmp_path)
    assert code == 0 and rows[0]["malformed"] == 10 and rows[0]["correct"] == 10 and rows[0]["exact_match"] == 0.5
    assert all(r["response"].startswith("The answer is") for r in records if r["status"] == "malformed")
    for rule, why in (("error500", "HTTP 500"), ("garbage", "malformed response body")):
        with FakeServer(solve, rule) as server:
            argv = probe_argv(server, tmp_path, "--lengths", "2", "--samples", "4", cache=False)
            code, out, _ = run(argv + ["--http-retries", "1"])
            requests = len(server.requests)
        rows, records = results(tmp_path)
        assert code == 0 and rows[0]["failed"] == 4 and rows[0]["exact_match"] == 0.0, out
        assert all(r["status"] == "failed" and why in r["error"] for r in records)
        assert f"failed x4: {why}" in out.replace("'", "")
        assert requests == (8 if rule == "error500" else 4)  # a 500 is retried; an unreadable body is not


def test_retries_rescue_flaky_servers_and_timeouts_fail_cleanly(tmp_path, run, monkeypatch):
    import numerate.lm.openai_api as api

    waits = []
    monkeypatch.setattr(api, "pause", waits.append)  # no real backoff in tests
    solve, _ = arithmetic_solver()
    with FakeServer(solve, "flaky", fail_first=2) as server:
        code, _, _ = run(probe_argv(server, tmp_path, "--lengths", "4", "--samples", "5", cache=False))
    rows, records = results(tmp_path)
    assert code == 0 and rows[0]["exact_match"] == 1.0 and {r["attempts"] for r in records} == {3}
    assert sorted(set(waits)) == [1.0, 2.0]  # exponential backoff
    with FakeServer(solve, "slow", delay=1.0) as server:
        argv = probe_argv(server, tmp_path, "--lengths", "2", "--samples", "3", cache=False)
        code, out, _ = run(argv + ["--timeout", "0.2", "--http-retries", "0"])
    rows, records = results(tmp_path)
    assert code == 0 and rows[0]["failed"] == 3 and all("timed out" in r["error"] for r in records)


def test_the_cache_makes_a_rerun_free_and_keeps_no_failures(tmp_path, run):
    solve, _ = arithmetic_solver()
    with FakeServer(solve, "right") as server:
        argv = probe_argv(server, tmp_path, "--lengths", "1-3", "--samples", "5")
        assert run(argv)[0] == 0
        sent = len(server.requests)
        first = results(tmp_path)
        code, out, _ = run(argv)
        assert code == 0 and len(server.requests) == sent == 15  # nothing sent the second time
        again = results(tmp_path)
        assert again[0] == first[0] and all(r["cached"] for r in again[1]) and "15 answered from the cache" in out
    with FakeServer(solve, "error500") as server:  # same prompts, new server: failures are not cached...
        argv = probe_argv(server, tmp_path, "--lengths", "4", "--samples", "2", "--http-retries", "0")
        run(argv)
        run(argv)
        assert len(server.requests) == 4
    with FakeServer(solve, "right") as server:  # ...and a later good answer is
        run(probe_argv(server, tmp_path, "--lengths", "4", "--samples", "2"))
        assert len(server.requests) == 2
        assert "api" not in (tmp_path / "cache.sqlite").read_bytes().decode("latin-1").lower().replace("apis", "")


def test_requests_run_concurrently_up_to_the_limit(tmp_path, run):
    solve, _ = arithmetic_solver()
    with FakeServer(solve, "slow", delay=0.2) as server:
        argv = probe_argv(server, tmp_path, "--lengths", "2", "--samples", "12", cache=False)
        assert run(argv + ["--concurrency", "3"])[0] == 0
        assert server.most_in_flight == 3


def test_the_key_comes_from_the_environment_and_a_refusal_is_not_retried(tmp_path, run, monkeypatch):
    solve, _ = arithmetic_solver()
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    with FakeServer(solve, "right", key="sk-test") as server:
        code, _, _ = run(probe_argv(server, tmp_path, "--lengths", "2", "--samples", "2", "--api-key-env", "FAKE_KEY"))
        assert code == 0 and server.requests[0]["auth"] == "Bearer sk-test"
        assert results(tmp_path)[0][0]["exact_match"] == 1.0
        code, out, _ = run(probe_argv(server, tmp_path, "--lengths", "2", "--samples", "2", "--no-cache"))
        assert code == 0 and "HTTP 401" in out and len(server.requests) == 4  # 2 + 2: a 401 is not retried
    assert "sk-test" not in (tmp_path / "out" / "results.json").read_text()


@pytest.mark.parametrize("name", REPS)
def test_every_representation_end_to_end_with_chat_and_shots(name, tmp_path, run):
    solve, _ = arithmetic_solver(name)
    with FakeServer(solve, "right") as server:
        argv = probe_argv(server, tmp_path, "--lengths", "1,5,12", "--samples", "4", "--representation", name)
        code, out, _ = run(argv + ["--shots", "2", "--chat", "--carry"])
        assert code == 0
        assert all(r["path"] == "/v1/chat/completions" for r in server.requests)
    rows, records = results(tmp_path)
    assert all(r["exact_match"] == 1.0 for r in rows) and {r["sampler"] for r in rows} == {"uniform", "carry"}
    assert len(records[0]["prompt"]) == 6  # system, 2 x (user, assistant), user
    assert REPRESENTATIONS.get(name).description in records[0]["prompt"][0]["content"]


def test_other_tasks_and_grids(tmp_path, run):
    for task, symbol in (("subtraction", "-"), ("multiplication", "*"), ("addition-many", "+")):
        solve, _ = arithmetic_solver(symbol=symbol)
        with FakeServer(solve, "right") as server:
            argv = probe_argv(server, tmp_path, "--task", task, "--lengths", "2,3", "--grid", "--samples", "3")
            code, _, err = run(argv)
        assert code == 0, err
        rows, records = results(tmp_path)
        assert all(r["exact_match"] == 1.0 for r in rows) and len(rows) == 4
        assert (tmp_path / "out" / "results.png").stat().st_size > 1000
        if task == "subtraction":
            assert any(r["truth"].startswith("-") for r in records)


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "name exactly one model"),
        (["--openai-base-url", "ftp://x", "--model", "m"], "must start with http"),
        (["--openai-base-url", "http://127.0.0.1:9/v1"], "name the model"),
        (["--hf", "/no/such/folder"], "no such file or folder"),
        (["--openai-base-url", "http://127.0.0.1:9/v1", "--model", "m", "--representation", "comma"], "did you mean"),
        (["--openai-base-url", "http://127.0.0.1:9/v1", "--model", "m", "--task", "gcd"], "numerate iterate"),
        (["--openai-base-url", "http://127.0.0.1:9/v1", "--model", "m", "--lengths", "0-3"], "length"),
        (["--numerate", "models/add-proof", "--representation", "reversed"], "do not apply"),
        (["--numerate", "models/add-proof", "--task", "subtraction"], "trained on 'addition'"),
        (["--numerate", "/no/such/model"], "no/such/model"),
    ],
)
def test_bad_probe_input_exits_2_with_a_message(extra, message, tmp_path, run, monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    code, out, err = run(["probe", "--out", str(tmp_path / "o"), "--no-cache", *extra])
    assert code == 2 and message in err and "Traceback" not in err, err


def test_an_unreachable_server_fails_every_request_and_the_run_finishes(tmp_path, run):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv = ["probe", "--openai-base-url", f"http://127.0.0.1:{port}/v1", "--model", "m", "--no-cache", "--quiet"]
    argv += ["--http-retries", "0", "--quiet"]
    code, out, _ = run(argv + ["--lengths", "2", "--samples", "2", "--out", str(tmp_path)])
    assert code == 0 and "connection failed" in out and "0/2 right" in out
    # after 20 failures in a row the rest are not sent (each would wait out its retries): fast, and said so
    code, out, _ = run(argv + ["--lengths", "2", "--samples", "30", "--concurrency", "1", "--out", str(tmp_path)])
    records = [json.loads(line) for line in (tmp_path / "responses.jsonl").read_text().splitlines()]
    assert code == 0 and sum(r["error"].startswith("not sent: the last 20 requests failed") for r in records) == 10


# --- numerate's own models behind the same interface ---------------------------------------------------------------


@pytest.fixture(scope="module")
def half_trained(tmp_path_factory):
    """models/add-small with noise on one matrix: right on some problems and wrong on others, so equal scores
    mean equal answers."""
    import torch

    from numerate.checkpoint import load_model, save_model

    bundle = load_model(Path(__file__).parent.parent / "models" / "add-small")
    weight = bundle.model.blocks[-1].mlp[0].weight
    with torch.no_grad():
        weight.add_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)) * 0.15)
    out = tmp_path_factory.mktemp("m") / "model"
    save_model(out, bundle, {})
    return out


def test_a_numerate_model_through_probe_reproduces_eval(half_trained, tmp_path, run):
    from numerate.checkpoint import load_model
    from numerate.eval.cells import make_cells
    from numerate.eval.evaluate import evaluate

    bundle = load_model(half_trained)
    cells = make_cells([1, 3, 6, 12], False, True, task=bundle.task)
    expected, _ = evaluate(bundle, cells, samples=40, seed=7)
    argv = f"probe --numerate {half_trained} --lengths 1,3,6,12 --carry --samples 40 --seed 7 --out {tmp_path / 'out'}"
    code, out, err = run(argv.split() + ["--quiet"])
    assert code == 0, err
    rows, records = results(tmp_path)
    assert [r["exact_match"] for r in rows] == [r["exact_match"] for r in expected]
    assert 0.1 < sum(r["correct"] for r in rows) / sum(r["n"] for r in rows) < 0.99  # a mix of right and wrong
    assert "seen" in records[0] and "what the model read" in out


# --- a tiny Hugging Face model, built from a config ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_hf(tmp_path_factory):
    pytest.importorskip("transformers")
    import torch
    from tokenizers import Regex, Tokenizer, decoders, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    chars = list("0123456789+-*=, \n")
    vocab = {"<eos>": 0, **{c: i + 1 for i, c in enumerate(chars)}, "<unk>": len(chars) + 1}
    tok = Tokenizer(WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.decoder = decoders.Fuse()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", unk_token="<unk>")
    torch.manual_seed(3)
    config = GPT2Config(
        vocab_size=len(vocab), n_positions=128, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0
    )
    model = GPT2LMHeadModel(config)
    with torch.no_grad():  # digits likelier than the rest, so replies are numbers (mostly wrong ones)
        model.lm_head.weight[1:11] += 0.5 * torch.randn(10, 32)
    path = tmp_path_factory.mktemp("hf") / "tiny-gpt2"
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path


def test_hf_batches_decode_as_single_prompts_do(tiny_hf):
    from numerate.lm.hf import HuggingFaceLM

    lm = HuggingFaceLM(tiny_hf, max_tokens=6, batch_size=4, device="cpu")
    rng = random.Random(0)
    prompts = [f"{rng.randrange(10 ** rng.randint(1, 6))}+{rng.randrange(10 ** rng.randint(1, 6))}=" for _ in range(9)]
    batched = [c.text for c in lm.complete([Request(Problem((0, 0)), p) for p in prompts])]
    single = [lm.complete([Request(Problem((0, 0)), p)])[0].text for p in prompts]
    assert batched == single and all("\n" not in t for t in batched)
    assert len(set(batched)) > 1  # prompts matter: left padding did not wash them out


def test_hf_prompts_beyond_the_context_fail_without_stopping_the_rest(tiny_hf):
    from numerate.lm.hf import HuggingFaceLM

    lm = HuggingFaceLM(tiny_hf, max_tokens=6, device="cpu")
    done = lm.complete([Request(Problem((0, 0)), "1" * 200 + "+1="), Request(Problem((0, 0)), "1+1=")])
    assert done[0].text is None and "the model has 128" in done[0].error and done[1].text is not None


def test_probe_runs_a_local_hf_model(tiny_hf, tmp_path, run):
    argv = f"probe --hf {tiny_hf} --lengths 1-3 --samples 5 --shots 1 --out {tmp_path / 'out'} --quiet"
    code, out, err = run(argv.split())
    assert code == 0, err
    rows, records = results(tmp_path)
    assert len(records) == 15 and all(r["status"] in ("right", "wrong", "malformed") for r in records)
    assert all(r["prompt"].count("\n") == 1 and r["prompt"].endswith("=") for r in records)
    for r in records:  # the score is what the strict reading of the reply says
        value = REPRESENTATIONS.get("plain").parse(r["response"].strip())
        assert (r["status"] == "right") == (value is not None and str(value) == r["truth"])


# --- language models in the iteration loop -------------------------------------------------------------------------


def iterative_solver(task_name):
    """The exact answer to the questions numerate.lm.iterative writes."""
    import re

    from numerate.tasks.gcd import euclid_step
    from numerate.tasks.knapsack import dp_step

    task = get_task(task_name)

    def ints(text):
        return [int(x) for x in re.findall(r"[0-9]+", text)]

    def solve(q):
        if q.startswith("step"):
            return ",".join(map(str, euclid_step(*ints(q))))
        if q.startswith("gcd"):
            return str(math.gcd(*ints(q)))
        if q.startswith("row"):
            *row, item = ints(q)
            return ",".join(map(str, dp_step(tuple(row), item)))
        if q.startswith("items"):
            return ",".join(map(str, task.final_answer(Problem(tuple(ints(q))))))
        return str(sum(ints(q)))

    def off_by_one(text):
        first, *rest = text.split(",")
        return ",".join([str(int(first) + 1), *rest])

    return solve, off_by_one


@pytest.mark.parametrize("task", ["running-sum", "gcd", "knapsack"])
def test_a_language_model_in_the_loop_and_one_shot(task, tmp_path, run):
    solve, off = iterative_solver(task)
    argv = ["iterate", "--task", task, "--dial", "2,5", "--samples", "4", "--out", str(tmp_path), "--quiet"]
    with FakeServer(solve, "right") as server:
        code, out, err = run(argv + ["--openai-base-url", server.url, "--model", "fake", "--no-cache"])
        sent = len(server.requests)
    assert code == 0, err
    summary = json.loads((tmp_path / "results.json").read_text())["summary"]
    assert {r["mode"] for r in summary} == {"one-shot", "external"} and all(r["exact"] == 1.0 for r in summary)
    ledger = [json.loads(line) for line in (tmp_path / "ledger-0.jsonl").read_text().splitlines()]
    assert len(ledger) == sent  # every prompt and reply
    assert all(row["prompt" if row["mode"] == "one-shot" else "input"] for row in ledger)
    with FakeServer(solve, "off-by-one") as server:
        server.off_by_one = off
        code, out, err = run(
            argv + ["--openai-base-url", server.url, "--model", "fake", "--no-cache", "--retries", "1"]
        )
    assert code == 0, err
    summary = json.loads((tmp_path / "results.json").read_text())["summary"]
    assert all(r["exact"] == 0.0 for r in summary if r["mode"] == "external")
    ledger = [json.loads(line) for line in (tmp_path / "ledger-0.jsonl").read_text().splitlines()]
    retries = [row for row in ledger if row["mode"] == "external" and row["attempt"] == 1]
    assert retries and all("Rejected: wrong" in row["input"] for row in retries)  # the verdict is in the prompt
    assert all(not row["verdict"]["ok"] for row in ledger if row["mode"] == "external")


def test_iterate_with_a_language_model_refuses_what_cannot_work(tmp_path, run):
    base = ["iterate", "--openai-base-url", "http://127.0.0.1:9/v1", "--model", "m", "--out", str(tmp_path)]
    for extra, message in (
        ([], "--task"),
        (["--task", "addition"], "not an iterative task"),
        (["--task", "gcd", "--modes", "looped"], "looped"),
        (["--task", "gcd", "--proposer", "model"], "--proposer lm"),
        (["--task", "gcd", "models/iter-sum-proof"], "not both"),
    ):
        code, _, err = run(base + extra)
        assert code == 2 and message in err, (extra, err)
    code, _, err = run(
        [
            "iterate",
            "models/iter-sum-proof",
            "--proposer",
            "lm",
            "--out",
            str(tmp_path),
            "--modes",
            "external",
            "--dial",
            "2",
            "--samples",
            "1",
        ]
    )
    assert code == 2 and "needs a language model" in err
