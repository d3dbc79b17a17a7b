"""The finite-state transducer a proven model computes, read off its checked cases.

For a model that `verify` proves, every case of every field class is answered right, so the case table *is* the
model's function. Read column by column, the query on answer digit s_j (writing s_j+1) sees the digits of column
j (a_j, b_j, s_j), of column j + 1 (a_j+1, b_j+1) and possibly more above. Whatever the model carries from one
column to the next must be recoverable from column j's digits, so:

- a *prefix* is what column j shows the query (the field's digits at column offset 0);
- a prefix's *behaviour* is the written digit as a function of the next column's operand digits;
- prefixes with the same behaviour are one *state* (they write the same digit on every next column, and since the
  next prefix is (a_j+1, b_j+1, written digit), they lead to the same states after it: this is the Myhill-Nerode
  equivalence, so the states are minimal);
- a *transition* goes from a state, reading the next column's operand digits, to the digit written and the state
  of the next prefix; the *initial* state is the one whose behaviour the first answer digit (written after `=`)
  shows.

If the digit written depended on a digit above the next column (a lookahead the field allows), no transducer of
this shape describes it, and that is reported. `compare` checks the result against a reference (the textbook carry
or borrow automaton: `reference(task)`) up to a renaming of states and names the first difference.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import torch

from numerate.verify import cases as cases_mod
from numerate.verify.field import structure_classes
from numerate.fieldview import depth_of
from numerate.verify.states import field_logits


@dataclass
class Transducer:
    """States 0..n-1; `step[(state, (a, b))] = (digit written, next state)`; `labels` name the states."""

    initial: int
    step: dict[tuple[int, tuple[int, int]], tuple[int, int]]
    labels: list[str] = field(default_factory=list)

    @property
    def n_states(self) -> int:
        return 1 + max(max(s for s, _ in self.step), max(n for _, n in self.step.values()), self.initial)

    @property
    def inputs(self) -> list[tuple[int, int]]:
        return sorted({i for _, i in self.step})

    def run(self, a: int, b: int, width: int) -> list[int]:
        """Digits written for operands a, b of `width` digits plus one (least significant first)."""
        state, out = self.initial, []
        for j in range(width + 1):
            digit, state = self.step[(state, (a // 10**j % 10, b // 10**j % 10))]
            out.append(digit)
        return out


@dataclass
class Explanation:
    """What `numerate explain` and `Model.explain()` report: the model's transducer, the task's reference, how the
    states match, and whether the two are the same automaton."""

    machine: Transducer
    reference: Transducer
    read_from: dict
    mapping: dict[int, int]
    difference: str | None
    word: str

    @property
    def equivalent(self) -> bool:
        return self.difference is None

    @property
    def statement(self) -> str:
        if self.difference is None:
            return f"equivalent to the {self.word} automaton ({self.reference.n_states} states)"
        return f"NOT the {self.word} automaton: {self.difference}"

    def table(self) -> str:
        return transition_table(self.machine, {s: self.reference.labels[r] for s, r in self.mapping.items()})


def explain(bundle, task_name: str) -> Explanation:
    """The transducer a (proven) model computes against its task's reference automaton; NotATransducer if the
    model or the task is not of that shape. The caller checks the proof first: only then is the table the
    model's function on every problem."""
    ref = reference(task_name)
    machine, info = extract(bundle)
    difference = compare(machine, ref)
    return Explanation(machine, ref, info, matching_states(machine, ref), difference, automaton_word(task_name))


class NotATransducer(Exception):
    """The model's written digit depends on more than the carried state and the next column."""


def reference(task_name: str) -> Transducer:
    """The task's own minimal column automaton, built from its proof contract and its `answer` alone: the carry
    automaton for addition and the running-sum step, ten's complement borrow for subtraction, and for a task of
    your own whatever its contract's states are (docs/architecture.md).

    Each declared state stands for its first `set_by` column with zeros below it. Reading column (a, b) in state
    s writes the digit the task's answer has there, and goes to the state whose representative writes the same
    digit as this prefix does on every next column (the Myhill-Nerode equivalence, checked on all 100 columns).
    Digits of a negative answer are those of its infinite ten's complement, as Python's floor division gives.
    """
    from numerate.tasks import get_task
    from numerate.tasks.base import Problem

    task = get_task(task_name)
    contract = task.proof_contract()
    if contract is None or contract.n_rows != 2 or contract.page:
        raise NotATransducer(f"task {task_name!r} declares no two-row column contract to build a reference from")
    columns = list(itertools.product(range(10), range(10)))

    def digits(cols: tuple[tuple[int, int], ...], place: int) -> int:
        a = sum(x * 10**i for i, (x, _) in enumerate(cols))
        b = sum(y * 10**i for i, (_, y) in enumerate(cols))
        return task.answer(Problem((a, b))) // 10**place % 10

    reps = [tuple(alternatives[0]) for alternatives in contract.set_by]
    futures = [tuple(digits((rep, y), 1) for y in columns) for rep in reps]
    for i, j in itertools.combinations(range(len(reps)), 2):
        if futures[i] == futures[j]:
            raise NotATransducer(
                f"task {task_name!r}: its states {contract.states[i]!r} and {contract.states[j]!r} behave alike "
                "on every next column, so its contract declares more states than its answer has"
            )

    def state_of(prefix: tuple[tuple[int, int], ...]) -> int:
        seen = tuple(digits(prefix + (y,), len(prefix)) for y in columns)
        if seen not in futures:
            raise NotATransducer(f"after columns {prefix} task {task_name!r} is in none of its declared states")
        return futures.index(seen)

    step = {(s, col): (digits((rep, col), 1), state_of((rep, col))) for s, rep in enumerate(reps) for col in columns}
    first = tuple(digits((y,), 0) for y in columns)
    if first not in futures:
        raise NotATransducer(f"task {task_name!r} starts in none of its declared states")
    return Transducer(futures.index(first), step, list(contract.states))


def automaton_word(task_name: str) -> str:
    """What the reference automaton is called in a sentence: the carry, the borrow, or the task's own."""
    return {"subtraction": "borrow", "addition": "carry", "running-sum": "carry"}.get(task_name, f"{task_name} task's")


def _interior_class(classes):
    """The field class of a query on an answer digit, writing the next answer digit, with operand columns present
    all around it (the general middle of a long problem) and the most cases."""
    best = None
    for cls in classes:
        lay, q = cls.example, cls.query
        answer_row = lay.rows[lay.queries[-1]]
        if not (lay.is_digit[q] and lay.rows[q] == answer_row and lay.is_digit[q + 1]):
            continue
        present = cls.key[2]
        if all(present) and (best is None or cls.width > best.width):
            best = cls
    return best


def _first_class(classes):
    """The class of the query that writes the first answer digit (the prompt's mark), at the widest width."""
    best = None
    for cls in classes:
        lay, q = cls.example, cls.query
        if not lay.is_digit[q] and lay.is_digit[q + 1] and all(cls.key[2]):
            best = cls if best is None or cls.width > best.width else best
    return best


def extract(bundle) -> tuple[Transducer, dict]:
    """The minimal transducer the model computes on its interior columns, and what it was read from."""
    model = bundle.model.eval()
    window, depth = bundle.model.scheme.window, depth_of(bundle.model)
    classes = structure_classes(bundle, window, depth)[0]
    inner = _interior_class(classes)
    if inner is None:
        raise NotATransducer("no field class of an answer digit inside the numbers was found")
    lay, q = inner.example, inner.query
    digit = {t: d for d, t in enumerate(bundle.tok.digit_ids)}
    plan = cases_mod.plan(bundle, inner)
    batch = cases_mod.case_batch(bundle, plan)
    written = field_logits(model, batch.field_ids, batch.pos).argmax(1)
    cq = lay.cols[q]
    answer_row = lay.rows[q]
    slot = {(lay.rows[k], lay.cols[k] - cq): i for i, k in enumerate(inner.field) if lay.is_digit[k]}
    prefix_slots = sorted((r, d) for (r, d) in slot if d == 0)
    if (0, 1) not in slot or (1, 1) not in slot:
        raise NotATransducer("the query's field does not hold the next column's operand digits")
    behaviour: dict[tuple, dict] = {}
    for row, out in zip(batch.field_ids.tolist(), written.tolist()):
        prefix = tuple(digit[row[slot[s]]] for s in prefix_slots)
        nxt = (digit[row[slot[(0, 1)]]], digit[row[slot[(1, 1)]]])
        if out not in digit:
            raise NotATransducer(f"the model writes a non-digit after prefix {prefix} on column {nxt}")
        seen = behaviour.setdefault(prefix, {})
        if seen.setdefault(nxt, digit[out]) != digit[out]:
            raise NotATransducer(
                f"after column digits {prefix} and next column {nxt} the model writes both {seen[nxt]} and "
                f"{digit[out]}: the digit depends on more than the carried state (a lookahead above the next column)"
            )
    functions = sorted({tuple(sorted(b.items())) for b in behaviour.values()})
    state_of = {p: functions.index(tuple(sorted(b.items()))) for p, b in behaviour.items()}
    names = [("a", 0), ("b", 1), ("s", answer_row)]
    prefix_names = [next(n for n, r in names if r == row) + "[j]" for row, _ in prefix_slots]
    step = {}
    for p, b in behaviour.items():
        for (a, bb), out in b.items():
            nxt_prefix = tuple({0: a, 1: bb}.get(r, out) for r, _ in prefix_slots)
            if nxt_prefix not in state_of:
                raise NotATransducer(f"the prefix {nxt_prefix} after a transition never occurs as a prefix")
            key = (state_of[p], (a, bb))
            if step.setdefault(key, (out, state_of[nxt_prefix])) != (out, state_of[nxt_prefix]):
                raise NotATransducer(f"state {state_of[p]} on column {(a, bb)} goes two ways")
    first = _first_class(classes)
    initial = _initial_state(bundle, first, step) if first is not None else 0
    info = {
        "class": inner.width,
        "field": [f"{'abs'[min(r, 2)]}[j{d:+d}]" if d else f"{'abs'[min(r, 2)]}[j]" for r, d in sorted(slot)],
        "prefix": prefix_names,
        "prefixes": {str(p): state_of[p] for p in sorted(behaviour)},
        "cases": len(batch.truth),
    }
    return Transducer(initial, step, [f"q{i}" for i in range(len(functions))]), info


def _initial_state(bundle, cls, step) -> int:
    """The state whose behaviour the first answer digit shows: s_0 as a function of (a_0, b_0)."""
    lay = cls.example
    digit = {t: d for d, t in enumerate(bundle.tok.digit_ids)}
    batch = cases_mod.case_batch(bundle, cases_mod.plan(bundle, cls))
    written = field_logits(bundle.model, batch.field_ids, batch.pos).argmax(1).tolist()
    slot = {(lay.rows[k], lay.cols[k]): i for i, k in enumerate(cls.field) if lay.is_digit[k]}
    seen = {}
    for row, out in zip(batch.field_ids.tolist(), written):
        seen[(digit[row[slot[(0, 1)]]], digit[row[slot[(1, 1)]]])] = digit.get(out)
    states = sorted({s for s, _ in step})
    matches = [s for s in states if all(step.get((s, i), (None,))[0] == o for i, o in seen.items())]
    if len(matches) != 1:
        raise NotATransducer(f"the first answer digit matches {len(matches)} states' behaviour, not one")
    return matches[0]


def compare(model: Transducer, ref: Transducer) -> str | None:
    """None if the two are the same transducer up to renaming states; else the first difference, in words."""
    if model.inputs != ref.inputs:
        return f"they read different columns: {len(model.inputs)} inputs against {len(ref.inputs)}"
    mapping = {model.initial: ref.initial}
    todo = [model.initial]
    while todo:
        s = todo.pop(0)
        for i in model.inputs:
            (o1, n1), (o2, n2) = model.step[(s, i)], ref.step[(mapping[s], i)]
            where = f"in state {model.labels[s] if model.labels else s} ({ref.labels[mapping[s]]}) on column {i}"
            if o1 != o2:
                return f"{where}: the model writes {o1}, the reference {o2}"
            if n1 in mapping and mapping[n1] != n2:
                return f"{where}: the model goes to a state the reference splits ({ref.labels[n2]} expected)"
            if n1 not in mapping:
                if n2 in mapping.values():
                    return f"{where}: the model goes to a new state where the reference returns to {ref.labels[n2]}"
                mapping[n1] = n2
                todo.append(n1)
    if len(mapping) != model.n_states or len(set(mapping.values())) != ref.n_states:
        return f"the model has {model.n_states} states, the reference {ref.n_states}"
    return None


def matching_states(machine: Transducer, ref: Transducer) -> dict[int, int]:
    """Model state -> reference state, following transitions from the initial states (as far as they agree)."""
    mapping, todo = {machine.initial: ref.initial}, [machine.initial]
    while todo:
        s = todo.pop()
        for i in machine.inputs:
            n1, n2 = machine.step[(s, i)][1], ref.step.get((mapping[s], i), (None, None))[1]
            if n1 not in mapping and n2 is not None:
                mapping[n1] = n2
                todo.append(n1)
    return mapping


@torch.no_grad()
def head_reading(bundle, cls=None) -> tuple[torch.Tensor, list[str]]:
    """Attention of the interior query to each token of its field, averaged over the class's cases:
    (layers x heads, field tokens), and the tokens' names. Only the query's own attention is shown (its field's
    other tokens attend too, one layer down)."""
    model = bundle.model.eval()
    window, depth = model.scheme.window, depth_of(model)
    cls = cls or _interior_class(structure_classes(bundle, window, depth)[0])
    batch = cases_mod.case_batch(bundle, cases_mod.plan(bundle, cls))
    x = batch.field_ids[:20_000]
    pos = batch.pos.expand((len(x),) + tuple(batch.pos.shape))
    captured = []
    hooks = [blk.attn.qkv.register_forward_hook(lambda m, i, o: captured.append(o)) for blk in model.blocks]
    try:
        model(x, pos)
    finally:
        for h in hooks:
            h.remove()
    T = x.shape[1]
    bias = model.scheme.bias(pos[:1], pos[:1])[0]  # (H, T, T), -inf outside the window
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    bias = bias.masked_fill(~causal, float("-inf"))
    H, C = model.cfg.n_head, model.cfg.n_embd
    D = C // H
    rows = []
    for qkv in captured:  # one per block call, in order (recurrences repeat the blocks)
        q, k, _ = qkv.split(C, dim=-1)
        q = q[:, -1].view(len(x), H, D)
        k = k.view(len(x), T, H, D).transpose(1, 2)
        scores = (q[:, :, None] @ k.transpose(-1, -2))[:, :, 0] / D**0.5 + bias[:, -1]
        rows.append(scores.softmax(-1).mean(0))  # (H, T)
    lay, q = cls.example, cls.query
    from numerate.verify.field import describe

    names = describe(lay, q, cls.field, bundle.tok.vocab).split(" ")
    return torch.cat(rows), names


def transition_table(t, ref_labels: dict[int, str]) -> str:
    """Rows a, columns b: the digit written, with ' where the transition leaves the state."""
    lines = []
    for s in sorted({s for s, _ in t.step}):
        name = f"{t.labels[s]} ({ref_labels.get(s, '?')})" + (", initial" if s == t.initial else "")
        lines.append(f"state {name}: digit written for next column (a down, b across); ' = go to the other state")
        lines.append("      " + " ".join(f"b={b}" for b in range(10)))
        for a in range(10):
            cells = []
            for b in range(10):
                digit, nxt = t.step[(s, (a, b))]
                cells.append(f"{digit}{chr(39) if nxt != s else ' '}".rjust(3))
            lines.append(f"  a={a} " + " ".join(cells))
    return "\n".join(lines)
