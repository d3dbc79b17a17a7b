"""`numerate explain MODEL_DIR`: the finite-state transducer a proven model computes, and what its heads read."""

from __future__ import annotations

import json
from pathlib import Path

from numerate.solver import open_folder
from numerate.verify.automaton import (
    NotATransducer,
    explain,
    head_reading,
)
from numerate.verify.prove import verify


EXPLAIN_BATCH = 8192  # only the verdict is used here: small batches keep a page model's proof under 1 GB


def run_explain(args) -> int:
    from numerate import plots

    pictures = plots.pictures_or_warn("explain")
    solver = open_folder(args.model)
    bundle = solver.one_model("explain")
    operands = None if args.problem is None else solver.parse(args.problem).operands  # the folder's own syntax
    result = verify(bundle, progress=False, batch_size=EXPLAIN_BATCH)
    if not result.proven:
        print(
            f"{args.model} does not verify ({result.verdict}): the cases do not describe every problem, so no "
            "automaton is claimed for it. `numerate verify` shows why."
        )
        return 1
    if getattr(bundle.task, "program", None) is not None:  # a page on which the model decides
        from numerate.commands import explain_program

        return explain_program.run(bundle, args.model, operands, Path(args.out), pictures)
    if solver.kind == "page":
        from numerate.commands import explain_page

        return explain_page.run(bundle, args.model, operands, Path(args.out), pictures)
    try:
        found = explain(bundle, bundle.task.name)
    except NotATransducer as exc:
        print(f"{args.model} is proven, but not a column transducer of this shape: {exc}")
        return 1
    machine, ref, info, mapping, statement = (
        found.machine,
        found.reference,
        found.read_from,
        found.mapping,
        found.statement,
    )
    print(f"{args.model}: proven ({result.cases} cases); read column by column from the {info['cases']} cases of")
    print(f"the field {' '.join(info['field'])} (column j's digits {', '.join(info['prefix'])} are the state):")
    print(f"{machine.n_states} states, {len(machine.inputs)} inputs (a, b) per column, minimal.\n")
    print(found.table())
    print()
    print(statement)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights, names = head_reading(bundle)
    if pictures:
        _draw(machine, ref, mapping, statement, weights, names, bundle.cfg.model.n_head, args.model, out)
    (out / "automaton.json").write_text(
        json.dumps(
            {
                "model": str(args.model),
                "statement": statement,
                "equivalent": found.equivalent,
                "states": machine.n_states,
                "initial": machine.initial,
                "state_names": {machine.labels[s]: ref.labels[r] for s, r in mapping.items()},
                "transitions": [
                    {"state": s, "a": a, "b": b, "writes": d, "next": n}
                    for (s, (a, b)), (d, n) in sorted(machine.step.items())
                ],
                "read_from": info,
                "heads": {
                    "rows": [
                        f"layer {r // bundle.cfg.model.n_head} head {r % bundle.cfg.model.n_head}"
                        for r in range(weights.shape[0])
                    ],
                    "tokens": names,
                    "mean_attention": weights.tolist(),
                },
            },
            indent=1,
        )
    )
    drawn = "automaton.png, heads.png, " if pictures else ""
    print(f"transition table, pictures and head reading in {out} ({drawn}automaton.json)")
    return 0 if found.equivalent else 1


def _draw(machine, ref, mapping, statement, weights, names, n_head: int, model: str, out: Path) -> None:
    """automaton.png (the states and transitions) and heads.png (what each head reads)."""
    from numerate import plots

    labels = [
        f"{machine.labels[s]} = {ref.labels[mapping[s]]}" if s in mapping else machine.labels[s]
        for s in range(machine.n_states)
    ]
    plots.automaton(machine.step, labels, machine.initial, f"{Path(model).name}: {statement}", out / "automaton.png")
    title = f"{Path(model).name}: what the query on s[j] reads (mean attention)"
    plots.head_reading(weights.numpy(), names, n_head, title, out / "heads.png")


# ---------------------------------------------------------------- the command line (cli.py lists the verb)


def add_parser(sub, help: str) -> None:
    """Declare `numerate explain` and its arguments."""

    x = sub.add_parser(
        "explain",
        help=help,
        description="Verify MODEL_DIR, then read the automaton it computes off its checked cases: the states are "
        "what one column's digits pass to the next (minimal: prefixes with the same behaviour are one state), the "
        "transitions the digit written for each next column. It is compared with the textbook carry (borrow) "
        "automaton, and the mean attention of the query's heads over its field is drawn. A page model "
        "(models/page-add, models/page-mul) has no such automaton: explain draws one page in its (row, column) "
        "layout, names each line, and outlines the field of view one query reads; on a page where the model "
        "decides (models/page-div, page-gcd) that query is a decision. docs/explain.md.",
        epilog="exit codes: 0 equivalent to the textbook automaton (a page model: proven and drawn), 1 not proven "
        "(no automaton is claimed) or a different automaton (the first difference is printed), 2 bad input",
    )
    x.add_argument("model", metavar="MODEL_DIR")
    x.add_argument("--out", metavar="DIR", help="where the pictures and JSON go (default runs/explain/<model>)")
    x.add_argument(
        "--problem",
        metavar="LINE",
        help="page models: the problem whose page is drawn, written as `numerate solve` reads it for this folder "
        "(12*34, 1+2+3, 947/23, 1071,462; default: a fixed one with carries or decisions in every line)",
    )
    x.add_argument("--quiet", action="store_true", help="print only where the pictures and JSON were written")
    x.set_defaults(func=command)


def command(args) -> int:

    args.out = args.out or str(Path("runs") / "explain" / Path(args.model).name)
    if not args.quiet:
        return run_explain(args)
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = run_explain(args)
    lines = printed.getvalue().splitlines()
    print(lines[-1] if lines else "")  # where the files went, or why nothing was drawn
    return code
