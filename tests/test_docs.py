"""The README and docs say what the code does: numbers copied from results files, commands that parse, paths that
exist, and extension examples that run."""

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from numerate.cli import build_parser

ROOT = Path(__file__).parent.parent
README_PAGE = (ROOT / "README.md").read_text()
# The README is a landing page; its full tables, commands and layout moved to docs/results.md and docs/reference.md,
# which are checked as if they were part of it.
README = "\n".join((ROOT / page).read_text() for page in ("README.md", "docs/results.md", "docs/reference.md"))


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w*)\n(.*?)```", text, re.S)


def block_starting(marker: str) -> str:
    found = [b for _, b in fenced_blocks(README) if marker in b.lstrip().split("\n", 1)[0]]
    if len(found) > 1:  # a marker inside another block's first line too: the block that starts with it
        found = [b for b in found if b.lstrip().startswith(marker)]
    assert len(found) == 1, f"README has {len(found)} blocks starting with {marker!r}"
    return found[0]


# Output blocks of the README and the results file each was copied from: a rerun of the benchmark that changes a
# number makes this fail until the README is updated.
COPIED = [
    ("preset demo , seeds", "bench/results/seeds-demo.md"),
    (
        "addition: exact match %, median [min-max] over seeds [0, 1, 2]; training",
        "bench/results/compare-standard/results.md",
    ),
    ("subtraction: exact match %", "bench/results/compare-sub/results.md"),
    ("mul-oneshot (preset mul-oneshot", "bench/results/grid-mul-oneshot.md"),
    ("task                 letters", "bench/results/smollm2-lowprob.md"),
    ("k x k  products", "bench/results/multiply.md"),
    ("preset times-digit train.threads=2", "bench/results/until-proven-times-digit.md"),
    ("preset add-long , seeds", "bench/results/seeds-add-long.md"),
    ("answer to addition followed by <eos>", "models/add-proof/certificate.md"),
    ("answer to subtraction followed by <eos>", "models/sub/certificate.md"),
    ("preset add-proof; `numerate verify`", "bench/results/proof-add-proof.md"),
    ("model models/add-proof in float64; 2 threads", "bench/results/long.md"),
    ("training (1-10 digits; one process", "bench/results/throughput.md"),
    ("add-many (preset add-many ),", "bench/results/grid-add-many.md"),
    ("add-many-answer (preset add-many model.pos", "bench/results/grid-add-many-answer.md"),
    ("add-many-full (preset add-many ), seeds [0, 1, 2]", "bench/results/grid-add-many-full.md"),
    ("sum-steps-many (preset iter-sum-proof", "bench/results/grid-sum-steps-many.md"),
    ("mode             digits             exact %", "bench/results/iterate-mul.md"),
    ("median [min-max] over 3 models; exact = the final", "bench/results/iterate-mul-lines.md"),
    ("add-proof recipe, 1 layer, window [0, +1]", "bench/results/tiny-adder.md"),
    ("model              verdict   cases  min lead", "bench/results/trust.md"),
    ("sampler     len a    len b  exact match  wrong", "bench/results/smollm2-addition-chat-3shot/results.md"),
    ("representation shots      1", "bench/results/smollm2-grid.md"),
    ("times-digit: exact match %, median", "bench/results/compare-times-digit/results.md"),
    ("## k operands of 1-3 digits", "bench/results/side-by-side.md"),
]


# The same for model cards: (card, first words of the block, results file).
CARDS = [
    ("models/add-many/README.md", "operands                  5", "bench/results/grid-add-many-full.md"),
    ("models/mul-lines/README.md", "external              1", "bench/results/iterate-mul-lines.md"),
    ("models/mul-lines/README.md", "multiplier digit d", "bench/results/mul-lines-errors.md"),
    ("models/mul/README.md", "k x k  products", "bench/results/multiply.md"),
    ("models/mul/README.md", "preset times-digit", "bench/results/until-proven-times-digit.md"),
    ("models/page-mul/README.md", "cell (k x k)", "bench/results/page-mul.md"),
    ("models/page-add/README.md", "seed exit proven at step", "bench/results/until-proven-page-add.md"),
    ("models/page-mul/README.md", "seed exit proven at step", "bench/results/until-proven-page-mul.md"),
]


@pytest.mark.parametrize("card, marker, source", CARDS)
def test_model_card_numbers_match_their_results_file(card, marker, source):
    lines = {line.strip() for line in (ROOT / source).read_text().splitlines()}
    text = (ROOT / card).read_text()
    blocks = [b for _, b in fenced_blocks(text) if b.lstrip().startswith(marker)]
    assert len(blocks) == 1
    missing = [line.strip() for line in blocks[0].splitlines() if line.strip() and line.strip() not in lines]
    assert not missing, f"{card} lines not in {source}: {missing[:3]}"


@pytest.mark.parametrize("marker, source", COPIED)
def test_readme_numbers_match_their_results_file(marker, source):
    lines = {line.strip() for line in (ROOT / source).read_text().splitlines()}
    shown = [line.strip() for line in block_starting(marker).splitlines() if line.strip() not in ("", "...")]
    missing = [line for line in shown if line not in lines]
    assert not missing, f"README lines not in {source}: {missing[:3]}"


def test_demo_output_proves_the_shipped_model():
    """The demo trains add-proof on one thread; its printed proof is models/add-proof's certificate."""
    import json

    cert = json.loads((ROOT / "models/add-proof/certificate.json").read_text())
    demo = block_starting("proving the default model")
    assert f"weights sha256 {cert['weights_sha256'][:16]}" in demo
    assert f"{cert['argument']['cases']} cases; minimum lead {cert['margin']['min_midpoint']:.3f}" in demo
    for c in cert["argument"]["classes"]:
        assert f"{c['cases']:>8} {c['min_margin']:>8.3f} {c['max_bound']:>9.2e} {c['min_slack']:>8.3f}" in demo


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def readme_commands(text: str = README) -> list[list[str]]:
    out = []
    for lang, block in fenced_blocks(text):
        if lang != "bash":
            continue
        for line in block.splitlines():
            line = line.split("#", 1)[0]
            for part in re.split(r"\|\||&&|\|", line):
                words = shlex.split(part)
                if "numerate" in words and words.index("numerate") + 1 < len(words):
                    out.append(words[words.index("numerate") + 1 :])
    return out


PROBE_DOC = (ROOT / "docs" / "probe.md").read_text()


@pytest.mark.parametrize("argv", readme_commands() + readme_commands(PROBE_DOC), ids=lambda a: " ".join(a)[:60])
def test_readme_commands_parse(argv):
    """Every `numerate ...` line in the README names a verb and options that exist (nothing is run)."""
    parsers = _subparsers()
    assert argv[0] in parsers, f"no verb {argv[0]}"
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"`numerate {' '.join(argv)}` does not parse (exit {exc.code})")


def test_readme_layout_names_files_that_exist():
    block = block_starting("src/numerate/")
    names = re.findall(r"\b([a-z_]+(?:\.py|/))", block)
    base = ROOT / "src" / "numerate"
    missing = [
        n
        for n in names
        if not any(p.name == n.rstrip("/") for p in base.rglob(n.rstrip("/")))
        and not (ROOT / n).exists()
        and not (ROOT / "docs" / n).exists()
        and not (ROOT / "tools" / n).exists()
        and n not in ("src/", "numerate/")
    ]
    assert not missing, f"README layout names missing files: {missing}"


def test_architecture_examples_run(tmp_path):
    """The one-file extension examples in docs/architecture.md work as written (in a fresh process, so their
    registrations do not leak into other tests)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    code = [b for lang, b in fenced_blocks(text) if lang == "python"]
    scheme, task, proposer, callback = code[:4]
    script = (
        "\n\n".join([scheme, task, proposer])
        + """

import random
from numerate import config, checkpoint
from numerate.tasks import get_task
from numerate.iterate.proposers import PROPOSERS, Question
from numerate.train.loop import train

cfg = config.load(None, ["model.pos=half-distance", "model.n_layer=1", "model.n_embd=16", "model.n_head=2",
                         "task.name=max", "train.max_steps=4", "train.eval_every=2", "train.ckpt_every=2",
                         "train.eval_samples=4", "train.batch_size=8", "task.train_lengths=[1,3]",
                         "task.ood_lengths=[4,5]", "train.threads=1"])
"""
        + callback.replace('train(cfg, "runs/x"', "train(cfg, OUT").replace(
            "from numerate.train.loop import train\n", ""
        )
        + """
task = get_task("max")
p = task.sample(random.Random(0), "uniform", (3, 5))
assert task.answer(p) == max(p.operands)
assert PROPOSERS.get("zero")(None, None).propose([Question(p)])[0].value == 0
bundle = checkpoint.load_model(OUT)
assert bundle.meta["step"] == 4
print("ok")
"""
    )
    script = f"OUT = {str(tmp_path / 'run')!r}\n" + script
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]


def test_probe_doc_shows_the_prompts_the_code_writes():
    """docs/probe.md's prompt examples are what numerate.lm writes, character for character."""
    import random

    from numerate.lm import iterative
    from numerate.lm.prompts import build_prompt, show
    from numerate.lm.representations import REPRESENTATIONS
    from numerate.tasks import get_task
    from numerate.tasks.base import Problem

    task, problem = get_task("addition"), Problem((1234567, 98765))
    shots = [Problem((4821, 377)), Problem((95, 9026))]
    table = [b for _, b in fenced_blocks(PROBE_DOC) if b.startswith("plain ")][0].splitlines()
    names = table[0].split()
    for name in names:
        column = [line.split("   ") for line in table[1:]]
        prompt = build_prompt(task, problem, REPRESENTATIONS.get(name), shots, chat=False).split("\n")
        for line, cells in zip(prompt, column):
            assert line in [c.strip() for c in cells if c.strip()], (name, line)
    chat = show(build_prompt(task, problem, REPRESENTATIONS.get("commas-right"), shots[:1], chat=True))
    assert chat in PROBE_DOC
    gcd = get_task("gcd")
    whole = gcd.sample_problem(random.Random(0), 3)
    step = gcd.query(whole, gcd.start(whole))
    verdict = [{"ok": False, "why": "wrong", "said": "12"}]
    assert iterative.build(gcd, False, step, False, iterative.examples(gcd, False, 2, 0), verdict) in PROBE_DOC


def test_procedure_numbers_in_the_readme_and_docs_match_their_results_file():
    """The procedures' tables (README, docs/procedures.md, the model cards) copy bench/results/procedures.md."""
    import json

    rows = json.loads((ROOT / "bench/results/procedures.json").read_text())["rows"]
    kept = {f"{r['digits_per_problem']:,}": r for r in rows}
    for page in ("docs/results.md", "docs/procedures.md", "models/gcd/README.md", "models/knapsack/README.md"):
        text = (ROOT / page).read_text()
        shown = re.findall(r"^\|[^\n]*\| ([\d,]{6,}) \|[^\n]*$", text, re.M)
        assert shown, f"{page}: no procedure table"
        for digits in shown:
            assert digits in kept, f"{page}: {digits} digits written is not in bench/results/procedures.json"


def test_readme_is_a_landing_page_that_links_every_docs_page():
    assert len(README_PAGE.splitlines()) <= 250
    index = (ROOT / "docs" / "README.md").read_text()
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "README.md":
            assert f"({page.name}" in index or f"(docs/{page.name}" in README_PAGE, f"{page.name} is not linked"


def test_the_reference_tables_are_the_codes():
    """docs/reference.md's command table (every verb, every option) and preset list are generated from the
    parsers and the presets folder: `python tools/reference_tables.py` rewrites them."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "reference_tables.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
