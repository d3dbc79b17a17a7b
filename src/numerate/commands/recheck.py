"""`numerate verify --check CERT.json`: does a certificate still hold for its folder? Says exactly what differs."""

from __future__ import annotations

import sys
from pathlib import Path


def recheck(args) -> int:
    from numerate.checkpoint import load_model
    from numerate.devices import pick_device
    from numerate.verify.binding import differences
    from numerate.verify.certificate import certificate
    from numerate.certificate_json import Certificate
    from numerate.verify.prove import verify
    from numerate.verify.recheck import compare_results, unprovable_terms

    path = Path(args.check)
    cert = Certificate.load(path)
    folder = Path(args.model) if args.model else path.parent
    bundle = load_model(folder, device=pick_device(args.device))
    problems = differences(cert.data, bundle, folder) or unprovable_terms(cert)
    if problems:
        print(f"{path} does not hold for {folder}:")
        for p in problems:
            print(f"  {p}")
        return 1
    result = verify(
        bundle,
        batch_size=args.batch_size,
        progress=not args.quiet and sys.stderr.isatty(),
        precision=cert.precision,
        method=cert.method,
    )
    fresh = certificate(bundle, folder, result)
    problems = compare_results(cert.data, fresh)
    if problems:
        print(f"{path}: recomputed, and it differs:")
        for p in problems:
            print(f"  {p}")
        return 1
    print(
        f"{path} holds for {folder}: same weights and config, {fresh['argument']['cases']} cases recomputed, "
        f"verdict {fresh['verdict']}, minimum lead {result.min_margin:.3f} (certified "
        f"{cert.data['margin']['min_midpoint']:.3f}; margins may differ by float reductions between CPUs)"
    )
    return 0 if fresh["proven"] else 1
