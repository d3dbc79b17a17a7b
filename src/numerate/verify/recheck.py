"""Does a certificate still hold? Re-derive it from the folder's weights and say exactly what differs.

`numerate verify --check CERT.json` (commands/recheck.py) and `solve --recheck` (the solver layer) both use this.
"""

from __future__ import annotations

from pathlib import Path

from numerate.certificate_json import FILE, Certificate
from numerate.errors import UsageError
from numerate.verify.status import ProofStatus

MARGIN_TOLERANCE = 1e-2  # margins differ slightly between CPUs (float reductions); cases and verdicts may not


def unprovable_terms(cert: Certificate) -> list[str]:
    """What in a certificate no numerate proof covers (a precision or an enclosure method it does not know)."""
    from numerate.verify.bounding import METHODS

    out = []
    if cert.precision is None:
        out.append(f"precision {(cert.binds or {}).get('precision')!r} is not one numerate proves")
    if cert.method not in METHODS:
        out.append(f"enclosure method {cert.method!r} is not one numerate proves with")
    return out


def compare_results(cert: dict, fresh: dict) -> list[str]:
    """Differences between a certificate and one computed again (class by class)."""
    out = []
    if cert.get("verdict", "proven" if cert["proven"] else "refuted") != fresh["verdict"]:
        out.append(f"verdict: {cert.get('verdict')!r} certified, {fresh['verdict']!r} now")
    old, new = cert["argument"].get("classes", []), fresh["argument"]["classes"]
    if len(old) != len(new):
        out.append(f"field classes: {len(old)} certified, {len(new)} now")
    for i, (a, b) in enumerate(zip(old, new)):
        for key in ("field", "width", "cases", "failures"):
            if a.get(key) != b[key]:
                out.append(f"class {i} ({b['field']}): {key} {a.get(key)!r} certified, {b[key]!r} now")
        if abs(a.get("min_margin", 0.0) - b["min_margin"]) > MARGIN_TOLERANCE:
            out.append(f"class {i} ({b['field']}): min margin {a.get('min_margin')} certified, {b['min_margin']} now")
        bound, slack = a.get("max_bound"), a.get("min_slack")
        if not isinstance(bound, (int, float)) or bound < b["max_bound"] * (1 - 1e-6):
            out.append(f"class {i} ({b['field']}): radius {bound!r} certified, {b['max_bound']:.6g} recomputed")
        if not isinstance(slack, (int, float)) or slack > b["min_slack"] + MARGIN_TOLERANCE:
            out.append(f"class {i} ({b['field']}): lead - radius {slack!r} certified, {b['min_slack']:.6g} now")
    if cert["argument"].get("cases") != fresh["argument"]["cases"]:
        out.append(f"cases: {cert['argument'].get('cases')} certified, {fresh['argument']['cases']} now")
    for key in ("statement", "proven"):
        if cert.get(key) != fresh[key]:
            out.append(f"{key}: {cert.get(key)!r} certified, {fresh[key]!r} derived now")
    old_r, new_r = cert.get("rounding", {}), fresh["rounding"]
    if old_r.get("precision") != new_r["precision"] or cert.get("binds", {}).get("precision") != new_r["precision"]:
        out.append(f"precision: {old_r.get('precision')!r} certified, {new_r['precision']!r} now")
    if old_r.get("bounded_cases") != new_r["bounded_cases"]:
        out.append(f"rounding: {old_r.get('bounded_cases')} cases bounded certified, {new_r['bounded_cases']} now")
    # A certificate may round its bound up, never down: a smaller radius than the one recomputed claims more.
    claimed = old_r.get("max_bound")
    if not isinstance(claimed, (int, float)) or claimed < new_r["max_bound"] * (1 - 1e-6):
        out.append(f"rounding: largest radius {claimed!r} certified, {new_r['max_bound']:.6g} recomputed")
    low = old_r.get("min_lead_minus_bound")
    if not isinstance(low, (int, float)) or low > new_r["min_lead_minus_bound"] + MARGIN_TOLERANCE:
        out.append(f"rounding: smallest lead minus radius {low!r} certified, {new_r['min_lead_minus_bound']:.6g} now")
    return out


def recheck_folder(bundle, folder: Path) -> ProofStatus:
    """`solve --recheck`: the folder's certificate re-derived from its weights (every case bounded again), or
    why it does not hold."""
    import time

    from numerate import malloc
    from numerate.verify.binding import differences

    malloc.keep_freed_memory()  # a proof's batches, not a stream's: keep freed blocks (malloc.py)
    from numerate.verify.certificate import certificate
    from numerate.verify.prove import verify

    path = Path(folder) / FILE
    if not path.is_file():
        return ProofStatus("none", f"re-check: {folder} has no certificate: not proven")
    started = time.perf_counter()
    try:
        cert = Certificate.load(path)
    except UsageError as exc:
        return ProofStatus("unreadable", f"re-check: {exc}; no proof applies")
    problems = differences(cert.data, bundle, folder) or unprovable_terms(cert)
    if not problems:
        precision = cert.precision
        result = verify(bundle, progress=False, precision=precision, method=cert.method)
        fresh = certificate(bundle, folder, result)
        problems = compare_results(cert.data, fresh)
        if not problems and fresh["proven"]:
            return ProofStatus(
                "rechecked",
                f"re-checked: {path} holds, proof re-derived ({fresh['argument']['cases']} cases bounded in "
                f"{time.perf_counter() - started:.1f} s): proven at every length in {precision}",
            )
        if not problems:
            problems = [f"verdict {fresh['verdict']}"]
    return ProofStatus("does not hold", "re-check: the certificate does NOT hold: " + "; ".join(problems[:3]))
