"""`numerate explain`: the automaton read off a proven model's cases, compared with the textbook one."""

import copy
import json
from pathlib import Path

import pytest
import torch

from numerate import checkpoint
from numerate.cli import main
from numerate.verify.automaton import Transducer, compare, extract, reference

MODELS = Path(__file__).parent.parent / "models"


@pytest.mark.slow
@pytest.mark.parametrize("model, word", [("add-proof", "carry"), ("sub", "borrow")])
def test_proven_models_are_the_textbook_automaton(model, word, tmp_path, capsys):
    assert main(["explain", str(MODELS / model), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"equivalent to the {word} automaton (2 states)" in out
    assert f"state q0 ({word} 0), initial" in out or f"({word} 0), initial" in out
    saved = json.loads((tmp_path / "automaton.json").read_text())
    assert saved["equivalent"] and saved["states"] == 2 and len(saved["transitions"]) == 200
    assert (tmp_path / "automaton.png").stat().st_size > 10_000 and (tmp_path / "heads.png").stat().st_size > 10_000


def test_the_extracted_automaton_adds():
    machine, info = extract(checkpoint.load_model(MODELS / "add-proof"))
    assert machine.n_states == 2 and info["prefix"] == ["a[j]", "b[j]", "s[j]"]
    a, b = 98765432101234567890, 12345678909876543210
    digits = machine.run(a, b, 20)
    assert int("".join(map(str, digits[::-1]))) == a + b


def _one_transition_changed(ref: Transducer, where=(1, (3, 4)), digit=None, nxt=None) -> Transducer:
    changed = copy.deepcopy(ref)
    d, n = changed.step[where]
    changed.step[where] = ((d + 1) % 10 if digit is None else digit, n if nxt is None else nxt)
    return changed


def test_a_reference_that_differs_by_one_transition_is_reported():
    machine, _ = extract(checkpoint.load_model(MODELS / "add-proof"))
    ref = reference("addition")
    assert compare(machine, ref) is None
    assert compare(machine, _one_transition_changed(ref)) == (
        "in state q1 (carry 1) on column (3, 4): the model writes 8, the reference 9"
    )
    wrong_next = _one_transition_changed(ref, where=(0, (9, 9)), digit=8, nxt=0)
    assert "(9, 9)" in compare(machine, wrong_next) and "carry 0" in compare(machine, wrong_next)
    assert compare(machine, reference("subtraction")) is not None


@pytest.mark.slow
def test_a_model_that_does_not_verify_gets_no_automaton(tmp_path, capsys):
    from numerate.checkpoint import save_model

    bundle = checkpoint.load_model(MODELS / "add-proof")
    wrong = copy.copy(bundle)
    wrong.model = copy.deepcopy(bundle.model)
    with torch.no_grad():
        wrong.model.head.weight[5].zero_()
    save_model(tmp_path / "wrong", wrong, {"step": 0})
    assert main(["explain", str(tmp_path / "wrong"), "--out", str(tmp_path / "x")]) == 1
    assert "does not verify (refuted)" in capsys.readouterr().out
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_reference_automaton_comes_from_the_task_and_its_contract():
    """`reference` is built from a task's answer and proof contract alone: the textbook carry and ten's-complement
    borrow automata for addition and subtraction, one state for a task of one's own that passes nothing between
    columns, and a refusal for a task whose contract declares states its answer does not have."""
    import itertools

    from numerate.tasks import TASKS
    from numerate.tasks.base import Task
    from numerate.tasks.proof import CARRY, ProofContract
    from numerate.verify.automaton import NotATransducer, reference

    for c, a, b in itertools.product(range(2), range(10), range(10)):
        assert reference("addition").step[(c, (a, b))] == ((a + b + c) % 10, (a + b + c) // 10)
        assert reference("subtraction").step[(c, (a, b))] == ((a - b - c) % 10, int(a - b - c < 0))
    assert reference("addition").initial == reference("subtraction").initial == 0

    def digitwise(x, y):
        return int("".join(str((int(p) + int(q)) % 10) for p, q in zip(f"{x:020d}", f"{y:020d}")))

    class Carryless(Task):
        name, symbol, n_operands = "carryless-test", "#", 2

        def answer(self, problem):
            return digitwise(*problem.operands)

        def proof_contract(self):
            return ProofContract(rows=("a", "b"), states=("nothing",), set_by=(((0, 0), (1, 0)),))

    class Mislabelled(Carryless):
        name = "mislabelled-test"

        def proof_contract(self):
            return CARRY  # claims a carry the answer never has: carry 1 behaves like carry 0

    TASKS.register("carryless-test")(Carryless)
    TASKS.register("mislabelled-test")(Mislabelled)
    try:
        ref = reference("carryless-test")
        assert ref.n_states == 1 and ref.labels == ["nothing"]
        assert all(ref.step[(0, (a, b))] == ((a + b) % 10, 0) for a in range(10) for b in range(10))
        with pytest.raises(NotATransducer, match="behave alike"):
            reference("mislabelled-test")
    finally:
        for name in ("carryless-test", "mislabelled-test"):
            TASKS._items.pop(name, None)
            TASKS._docs.pop(name, None)
    with pytest.raises(NotATransducer):
        reference("copy")


@pytest.mark.slow
def test_a_page_model_is_drawn_with_the_bounded_field_of_one_query(tmp_path, capsys):
    operands = [int("9" * (3 + i % 5)) + i for i in range(12)]
    problem = "+".join(map(str, operands))
    assert main(["explain", str(MODELS / "page-add"), "--problem", problem, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "total after operand 12" in out and "op[j] op[j+1] up[j] up[j+1] line[j]" in out
    saved = json.loads((tmp_path / "page.json").read_text())
    assert saved["problem"] == operands
    tokens, q = saved["tokens"], saved["query"]
    # the last line of work is the sum, written least significant digit first
    last = [t["token"] for t in tokens if t["line"] == "total after operand 12" and t["token"].isdigit()]
    assert "".join(last[::-1]) == str(sum(operands))
    # the drawn field stays inside both windows of the query, however long the page is
    lo, hi = saved["window"]
    rlo, rhi = saved["row_window"]
    for k in saved["field"]:
        assert lo <= tokens[k]["column"] - tokens[q]["column"] <= hi
        assert rlo <= tokens[k]["row"] - tokens[q]["row"] <= rhi
    assert max(saved["field_sizes"]) <= 5 < len(tokens)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_explain_names_a_malformed_page_problem(capsys):
    assert main(["explain", str(MODELS / "page-add"), "--problem", "12+x"]) == 2
    assert "12+x" in capsys.readouterr().err


def test_the_automaton_picture_keeps_every_label_inside_it(tmp_path, monkeypatch):
    """Titles and axis labels of automaton.png lie inside the figure (the b axis label was once cut off)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from numerate import plots

    kept = {}
    monkeypatch.setattr(plt, "close", lambda fig: kept.setdefault("fig", fig))
    step = {(s, (a, b)): ((a + b + s) % 10, int(a + b + s >= 10)) for s in (0, 1) for a in range(10) for b in range(10)}
    plots.automaton(step, ["carry 0", "carry 1"], 0, "a title", tmp_path / "a.png")
    fig = kept["fig"]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = fig.bbox
    for ax in fig.axes:
        for text in (ax.xaxis.label, ax.yaxis.label, ax.title):
            ext = text.get_window_extent(renderer)
            assert ext.x0 >= box.x0 - 1 and ext.y0 >= box.y0 - 1 and ext.x1 <= box.x1 + 1 and ext.y1 <= box.y1 + 1


def test_the_written_cell_of_a_page_picture_stands_apart_from_every_line_kind():
    """The cell the query writes is drawn in a colour far from every line kind's pastel (it was once a blue
    beside the light-blue b lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt

    from numerate.plots import WRITTEN_CELL

    written = mcolors.to_rgb(WRITTEN_CELL)
    for i in range(9):
        pastel = plt.cm.Pastel1(i)[:3]
        assert sum((a - b) ** 2 for a, b in zip(written, pastel)) ** 0.5 > 0.8
