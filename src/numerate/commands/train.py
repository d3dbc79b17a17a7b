"""`numerate train`."""

from __future__ import annotations

# ---------------------------------------------------------------- the command line (cli.py lists the verb)


def add_parser(sub, help: str) -> None:
    """Declare `numerate train` and its arguments."""
    import argparse

    from numerate.commands.args import positive_int

    from numerate.config import help_text

    t = sub.add_parser(
        "train",
        help=help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train a model. CONFIG is a YAML file or a preset name (`numerate list`).",
        epilog="config keys (set in YAML or with --set section.key=value):\n" + help_text(),
    )
    t.add_argument("config", metavar="CONFIG", help="YAML file or preset name, e.g. add-small")
    t.add_argument(
        "--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE", help="override config keys (repeatable)"
    )
    t.add_argument("--out", help="run folder (default runs/<config name>)")
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument(
        "--until-proven",
        action="store_true",
        help="once sampled accuracy is 100%%, verify the model at each evaluation and stop when it is proven; the "
        "certificate is written into the run folder (exit 1 if max_steps ends unproven; models outside the "
        "provable class are refused before training)",
    )
    t.add_argument(
        "--prove-every",
        type=positive_int,
        metavar="N",
        help="with --until-proven: try every N steps (default: each evaluation, train.eval_every)",
    )
    t.set_defaults(func=command)


def command(args) -> int:
    import json
    from pathlib import Path

    from numerate import api, config

    cfg = config.load(args.config, args.set)
    out = Path(args.out or Path("runs") / Path(args.config).stem)
    _, row, proof = api.run_training(
        cfg, out, until_proven=args.until_proven, prove_every=args.prove_every, quiet=args.quiet, resume=args.resume
    )
    if row:
        print(json.dumps(row))
    print(f"model saved in {out}")
    if proof is not None:
        if proof.proven_at is None:
            tried = proof.attempts or "none: sampled accuracy stayed below 100%"
            print(f"not proven by step {(row or {}).get('step')} (attempts: {tried})")
            return 1
        print(f"PROVEN at step {proof.proven_at}: certificate in {out / 'certificate.json'}")
    return 0
