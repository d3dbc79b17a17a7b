"""`numerate verify MODEL_DIR`: prove a model right at every length, or refute it with a counterexample.

A procedure folder (models/mul, models/gcd, ...: `procedure.yaml` naming step models) is proven step by step: each
step model is verified in turn, and the procedure's claim is made only when every step is proven, since the
procedure around them only routes digits (numerate/procedures).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from numerate.errors import UsageError


def run_verify(args) -> int:
    from numerate import malloc
    from numerate.devices import pick_device
    from numerate.solver import open_folder

    malloc.keep_freed_memory()
    import torch

    from numerate.devices import free_cpus

    torch.set_num_threads(free_cpus())  # more threads than free cores spin against the busy ones
    if args.check:
        from numerate.commands.recheck import recheck

        return recheck(args)
    if args.model is None:
        raise UsageError("verify needs MODEL_DIR (or --check CERT.json)")
    solver = open_folder(args.model, device=pick_device(args.device))
    models = solver.models()
    if len(models) == 1:
        [(folder, bundle)] = models.values()
        return _verify_one(args, folder, bundle, args.out)
    if args.out:
        raise UsageError(
            f"{args.model} runs several models: write each one's certificate into its own folder "
            "(numerate verify STEP_DIR --out STEP_DIR/certificate.json)"
        )
    codes = {}
    for name, (folder, bundle) in models.items():
        print(f"== step '{name}': {folder}")
        codes[name] = _verify_one(args, folder, bundle, None)
        print()
    print(solver.proof_claim({name: code == 0 for name, code in codes.items()}, args.precision))
    return 0 if all(code == 0 for code in codes.values()) else 1


def _verify_one(args, folder: Path, bundle, out: str | None) -> int:
    from numerate.certificate_json import summary
    from numerate.verify.certificate import certificate
    from numerate.verify.prove import verify

    result = verify(
        bundle,
        batch_size=args.batch_size,
        max_cases=args.max_cases,
        progress=not args.quiet and sys.stderr.isatty(),
        precision=args.precision,
        max_failures=args.max_failures,
        method=args.enclosure,
    )
    cert = certificate(bundle, folder, result)
    text = summary(cert)
    print(text)
    if out:
        path = Path(out)
        path.write_text(json.dumps(cert, indent=2) + "\n")
        path.with_suffix(".md").write_text("# Certificate\n\n```\n" + text + "\n```\n")
        print(f"certificate written to {path} and {path.with_suffix('.md')}")
    return 0 if result.proven else 1


# ---------------------------------------------------------------- the command line (cli.py lists the verb)


def add_parser(sub, help: str) -> None:
    """Declare `numerate verify` and its arguments."""

    from numerate.commands.args import output_file, positive_int

    v = sub.add_parser(
        "verify",
        help=help,
        description="Prove that greedy decoding of MODEL_DIR writes the exact answer to every problem of every "
        "length. The field of view of each answer digit is derived from the model's column window and depth; "
        "every field it can see (a finite set) is checked against the exact answer, and an induction over the "
        "answer's digits extends that to all lengths. Every case is run through ball arithmetic (a float64 "
        "midpoint and a rigorous rounding radius covering any summation order), so the claim holds for every "
        "evaluation in the certified precision, not one. A procedure folder (procedure.yaml: models/mul, models/gcd, "
        "models/isqrt, models/knapsack, models/descent) is proven step by step: every step model it names is "
        "verified, and the procedure's claim is printed (exit 0) only when all are proven. docs/verification.md "
        "states the argument and its assumptions.",
        epilog="exit codes: 0 proven (certificate printed, and written with --out), 1 not proven: counterexamples "
        "found (printed as problems with the model's wrong answer), or undecided by rounding (the cases whose lead "
        "does not clear its rounding radius are printed), or with --check a certificate that no longer holds; 2 the "
        "model is outside the provable class (no "
        "column window, absolute positions, an unsupported format) or too many cases: the message says why",
    )
    v.add_argument("model", metavar="MODEL_DIR", nargs="?")
    v.add_argument(
        "--check",
        metavar="CERT.json",
        help="re-check a certificate against its model folder (MODEL_DIR, else the certificate's own folder): "
        "weights, config and every case; prints what differs (exit 0 when it still holds)",
    )
    v.add_argument(
        "--out", type=output_file, metavar="CERT.json", help="write the certificate here (and a readable CERT.md)"
    )
    v.add_argument(
        "--batch-size",
        type=positive_int,
        default=262_144,
        help="cases per forward pass (default 262,144, as the shipped certificates were made; the radius is shared "
        "by a batch's cases, so a smaller batch certifies radii at least as tight, with less memory: 8,192 keeps "
        "every shipped model under 1 GB)",
    )
    v.add_argument(
        "--max-cases", type=positive_int, default=20_000_000, help="refuse proofs needing more (default 2e7)"
    )
    v.add_argument(
        "--max-failures",
        type=positive_int,
        metavar="N",
        help="stop after N failing cases (one refutes the model); default: check every case",
    )
    v.add_argument(
        "--precision",
        choices=("float64", "float32"),
        default="float64",
        help="the evaluation the proof covers: float64 (default; solve and eval run a certified model in it) or "
        "float32 (a far larger rounding radius: few models clear it)",
    )
    v.add_argument(
        "--enclosure",
        choices=("ball", "mean-value"),
        default="ball",
        help="how each case's rounding radius is bounded: ball (default; ball arithmetic operation by operation, "
        "fast) or mean-value (mean-value forms per layer: radii that follow the model's real sensitivity, for "
        "deeper models and float32; slower). docs/verification.md, 'Mean-value forms'",
    )
    v.add_argument("--quiet", action="store_true", help="no progress bar")
    v.add_argument("--device", default="cpu", help="cpu (default), auto, cuda or cuda:N")
    v.set_defaults(func=command)


def command(args) -> int:

    return run_verify(args)
