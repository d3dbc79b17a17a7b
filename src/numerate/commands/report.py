"""`numerate report DIR`: one self-contained HTML page for a run, comparison, probe, lab or model folder.

As every verb, it declares its own arguments here (`add_parser`); cli.py only lists it.
"""

from __future__ import annotations

from pathlib import Path

NAME = "report"


def add_parser(sub, help: str) -> None:
    r = sub.add_parser(
        NAME,
        help=help,
        description="Write one HTML page showing what DIR holds: training curves and config (a run), the "
        "evaluation grid (eval.json from `numerate eval --json`), a certificate's verdict, classes and cost, a "
        "comparison's table and per-variant curves, a probe's or lab's rows and mistakes, and every PNG there. "
        "Images are embedded: the page needs no server and no network.",
        epilog="exit codes: 0 written, 2 bad input (not a folder, nothing to show, unreadable JSON)",
    )
    r.add_argument("folder", metavar="DIR")
    r.add_argument("--out", metavar="FILE.html", help="where to write the page (default DIR/report.html)")
    r.set_defaults(func=run)


def run(args) -> int:
    from numerate.errors import UsageError
    from numerate.report import build

    page = build(args.folder)
    out = Path(args.out or Path(args.folder) / "report.html")
    if not out.parent.is_dir():
        raise UsageError(f"folder {out.parent} does not exist (create it first)")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page)
    tmp.replace(out)  # atomic: a page is either the old one or the whole new one
    print(f"report written to {out} ({len(page) / 1e6:.1f} MB)")
    return 0
