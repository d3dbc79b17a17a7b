"""`numerate verify MODEL_DIR`: prove a model right at every length, or refute it with a counterexample.

A procedure folder (models/mul: `procedure.yaml` naming step models) is proven step by step: each step model is
verified in turn, and the product is claimed only when every step is proven, since the procedure around them only
routes digits (numerate/iterate/multiply.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from numerate.errors import UsageError


def run_verify(args) -> int:
    from numerate.iterate.multiply import is_procedure

    if args.check:
        from numerate.commands.recheck import recheck

        return recheck(args)
    if args.model is None:
        raise UsageError("verify needs MODEL_DIR (or --check CERT.json)")
    if is_procedure(args.model):
        return _verify_procedure(args)
    return _verify_one(args, Path(args.model), args.out)


def _verify_one(args, folder: Path, out: str | None) -> int:
    from numerate.checkpoint import load_model
    from numerate.devices import pick_device
    from numerate.verify.prove import certificate, summary, verify

    bundle = load_model(folder, device=pick_device(args.device))
    result = verify(
        bundle,
        batch_size=args.batch_size,
        max_cases=args.max_cases,
        progress=not args.quiet and sys.stderr.isatty(),
        float64=args.float64,
        max_failures=args.max_failures,
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


def _verify_procedure(args) -> int:
    from numerate.iterate.multiply import PROCEDURE_FILE, load_multiplier

    folder = Path(args.model)
    if args.out:
        raise UsageError(
            f"{folder} is a procedure of step models: write each step's certificate into its own folder "
            "(numerate verify STEP_DIR --out STEP_DIR/certificate.json)"
        )
    m = load_multiplier(folder)  # checks the steps' folders and tasks before any work
    codes = {}
    for name, step_dir in m.step_dirs.items():
        print(f"== step '{name}': {step_dir}")
        codes[name] = _verify_one(args, step_dir, None)
        print()
    if all(code == 0 for code in codes.values()):
        print(
            f"PROVEN: For every pair of non-negative integers a and b, of any length, `numerate solve {folder}` writes "
            f"exactly a * b: every step model of {folder / PROCEDURE_FILE} is proven above, and the procedure "
            "around them only routes digits (numerate/iterate/multiply.py; docs/verification.md, 'Multiplication')."
        )
        return 0
    failed = ", ".join(name for name, code in codes.items() if code)
    print(f"NOT PROVEN: step(s) {failed} not proven, so no claim is made about the products of {folder}")
    return 1
