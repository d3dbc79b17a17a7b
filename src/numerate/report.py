"""One self-contained HTML page for a results folder: no server, no network, every image embedded.

`numerate report DIR` recognises what DIR holds and shows each part it finds:

- a **run** (config.json + metrics.jsonl): loss and accuracy curves, the config, an evaluation grid
  (eval.json, from `numerate eval --json DIR/eval.json`) as a heatmap with its table;
- a **certificate** (certificate.json): the verdict, the statement, the classes with their margins, the rounding
  bound and the cost model;
- a **comparison** (results.json with a spec, from `numerate compare`): the table, the bands plot, and each
  variant's training curves;
- a **probe** or **iteration lab** (results.json with rows, from `numerate probe` / `numerate iterate`): the table
  of rows, the plot, and the first mistakes of a probe.

Anything else with a results.md or PNG files gets those. The page's text holds the folder's numbers, so it can be
searched and diffed; pictures are PNGs drawn by matplotlib (an optional dependency: without it, tables only).
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from numerate.errors import UsageError

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
img { max-width: 100%; border: 1px solid #eee; }
.verdict { font-weight: bold; } .ok { color: #17702a; } .bad { color: #a11; }
"""


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not valid JSON ({e})") from None


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    columns = columns or [c for c in rows[0] if not isinstance(rows[0][c], (list, dict))]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c)
            text = f"{v:.4g}" if isinstance(v, float) else "" if v is None else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _image(path_or_fig) -> str:
    if isinstance(path_or_fig, Path):
        data = path_or_fig.read_bytes()
        alt = path_or_fig.name
    else:
        buf = io.BytesIO()
        path_or_fig.savefig(buf, format="png", dpi=100)
        data, alt = buf.getvalue(), "plot"
        import matplotlib.pyplot as plt

        plt.close(path_or_fig)
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}"></p>'


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt
    except ImportError:
        return None


def _metrics(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by an interrupted write
    return rows


def _curves(series: dict[str, list[dict]], title: str) -> str:
    plt = _pyplot()
    if plt is None or not any(series.values()):
        return ""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
    for name, rows in series.items():
        steps = [r["step"] for r in rows]
        ax1.plot(steps, [r.get("loss") for r in rows], label=name)
        for key, style in (("acc_id", "-"), ("acc_ood", "--")):
            if any(key in r for r in rows):
                ax2.plot(steps, [100 * r.get(key, float("nan")) for r in rows], style, label=f"{name} {key}")
    ax1.set_yscale("log")
    ax1.set_xlabel("step")
    ax1.set_ylabel("training loss")
    ax2.set_xlabel("step")
    ax2.set_ylabel("sampled exact match (%)")
    ax2.set_ylim(-2, 102)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    if len(series) <= 8:
        ax2.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return _image(fig)


def _run_section(folder: Path) -> str:
    cfg = _read_json(folder / "config.json")
    metrics = _metrics(folder / "metrics.jsonl") if (folder / "metrics.jsonl").is_file() else []
    out = ["<h2>Training run</h2>"]
    if metrics:
        last = metrics[-1]
        out.append(
            f"<p>{len(metrics)} evaluations; last at step {last['step']}: loss {last.get('loss', float('nan')):.4g}, "
            f"sampled exact match in training lengths {100 * last.get('acc_id', 0):.1f}%, beyond "
            f"{100 * last.get('acc_ood', 0):.1f}%, {last.get('elapsed_s', 0):.0f} s</p>"
        )
        out.append(_curves({folder.name: metrics}, "training curves"))
        out.append(_table(metrics[-10:]))
    settings = cfg.get("config", cfg)
    if isinstance(settings, dict):
        rows = [
            {"key": f"{section}.{k}", "value": json.dumps(v)}
            for section, values in settings.items()
            if isinstance(values, dict)
            for k, v in values.items()
        ]
        out.append("<details><summary>config</summary>" + _table(rows, ["key", "value"]) + "</details>")
    if (folder / "eval.json").is_file():
        out.append(_eval_section(folder / "eval.json", settings))
    return "\n".join(out)


def _eval_section(path: Path, settings) -> str:
    data = _read_json(path)
    rows = data.get("rows", []) if isinstance(data, dict) else []
    out = ["<h2>Evaluation</h2>"]
    dims = [d for d in ("len_a", "len_b") if rows and d in rows[0]]
    plt = _pyplot()
    if plt is not None and len(dims) == 2 and len({r["len_b"] for r in rows}) > 1:
        from numerate import plots

        buf = Path(path.parent / ".report-heatmap.png")
        try:
            train_max = settings.get("task", {}).get("train_lengths", [None, None])[1]
            plots.heatmap(rows, buf, "exact match (%)", train_max)
            out.append(_image(buf))
        finally:
            buf.unlink(missing_ok=True)
    out.append(_table(rows))
    return "\n".join(out)


def _certificate_section(path: Path) -> str:
    from numerate.certificate_json import Certificate

    value = Certificate.load(path)
    cert, verdict = value.data, value.verdict
    cls = "ok" if value.proven else "bad"
    arg = cert["argument"]
    out = [
        "<h2>Certificate</h2>",
        f'<p class="verdict {cls}">{html.escape(verdict.upper())}: {html.escape(cert.get("statement", ""))}</p>',
        f"<p>weights sha256 {html.escape(str(cert.get('weights_sha256', ''))[:16])}..., "
        f"{arg.get('cases', '?')} cases, minimum margin {cert.get('margin', {}).get('min_midpoint', float('nan')):.3f}"
        "</p>",
    ]
    classes = arg.get("classes", [])
    if classes:
        cols = ["field", "width", "cases", "min_margin", "max_bound", "failures"]
        out.append(_table(classes, [c for c in cols if c in classes[0]]))
    try:
        out.append(f"<pre>{html.escape(value.summary())}</pre>")
    except (KeyError, TypeError):
        pass  # an older or partial certificate: the table above is what it has
    return "\n".join(out)


def _results_section(folder: Path) -> str:
    data = _read_json(folder / "results.json")
    out = []
    if isinstance(data, dict) and "spec" in data and isinstance(data.get("rows"), dict):
        out.append("<h2>Comparison</h2>")
        summary = data.get("summary", {})
        fit = data.get("fit", {}) if isinstance(data.get("fit"), dict) else {}
        unfit = {v: f for v, f in fit.items() if isinstance(f, dict) and f.get("did_not_fit")}
        rows = [
            {"variant": v + (" *" if v in unfit else ""), **{band: _spread(x) for band, x in s.items()}}
            for v, s in summary.items()
        ]
        if rows:
            out.append(_table(rows))
        for v, f in unfit.items():
            inside = {str(k): x for k, x in f["in_distribution"].items()}  # JSON turned the seeds into strings
            seeds = ", ".join(f"seed {s}: {inside[str(s)]:.1f}%" for s in f["did_not_fit"] if str(s) in inside)
            out.append(
                f"<p><b>* {html.escape(v)} did not fit its own training range</b> ({html.escape(seeds)}): its "
                "numbers beyond that range measure a model that never learned the task, not length "
                "generalization.</p>"
            )
        series = {}
        for variant in data["rows"]:
            for run in sorted((folder / variant).glob("s*")):
                if (run / "metrics.jsonl").is_file():
                    series[f"{variant} {run.name}"] = _metrics(run / "metrics.jsonl")
        if series:
            out.append(_curves(series, "training curves per variant and seed"))
    elif isinstance(data, dict) and isinstance(data.get("rows"), list):
        kind = "Probe" if "model" in data and "settings" in data else "Results"
        out.append(f"<h2>{kind}: {html.escape(str(data.get('task', '')))}</h2>")
        if "command" in data:
            out.append(f"<pre>{html.escape(data['command'])}</pre>")
        out.append(_table(data["rows"]))
        out.append(_mistakes(folder / "responses.jsonl"))
    elif isinstance(data, dict) and isinstance(data.get("rows"), dict):
        out.append(f"<h2>Iteration lab: {html.escape(str(data.get('task', '')))}</h2>")
        if "command" in data:
            out.append(f"<pre>{html.escape(str(data['command']))}</pre>")
        for name, rows in data["rows"].items():
            out.append(f"<h3>{html.escape(name)}</h3>" + _table(rows))
    return "\n".join(out)


def _spread(x) -> str:
    """{median, min, max} (percent) as `median [min-max]`, as the comparison tables write it."""
    if isinstance(x, dict) and {"median", "min", "max"} <= set(x):
        return f"{x['median']:.1f} [{x['min']:.1f}-{x['max']:.1f}]"
    return str(x)


def _mistakes(path: Path, limit: int = 12) -> str:
    if not path.is_file():
        return ""
    wrong = []
    for line in path.read_text().splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(r, dict) and not r.get("correct", True):
            wrong.append(r)
        if len(wrong) >= limit:
            break
    if not wrong:
        return ""
    cols = [c for c in ("operands", "truth", "value", "reply", "text") if c in wrong[0]]
    return f"<h3>First {len(wrong)} mistakes</h3>" + _table(wrong, cols or None)


def build(folder) -> str:
    """The page for `folder`; UsageError if it holds nothing a report can show."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder (give a run, comparison, probe, lab or model folder)")
    parts = []
    if (folder / "config.json").is_file() and (folder / "metrics.jsonl").is_file():
        parts.append(_run_section(folder))
    if (folder / "certificate.json").is_file():
        parts.append(_certificate_section(folder / "certificate.json"))
    if (folder / "results.json").is_file():
        parts.append(_results_section(folder))
    if (folder / "results.md").is_file():
        parts.append("<h2>results.md</h2><pre>" + html.escape((folder / "results.md").read_text()) + "</pre>")
    pngs = sorted(p for p in folder.glob("*.png") if not p.name.startswith("."))
    if pngs:
        parts.append("<h2>Figures</h2>" + "".join(_image(p) for p in pngs))
    if not parts:
        raise UsageError(
            f"{folder} holds nothing a report shows (config.json with metrics.jsonl, certificate.json, "
            "results.json, results.md or PNG files)"
        )
    title = html.escape(f"numerate report: {folder}")
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style></head>'
        f"<body><h1>{title}</h1>\n" + "\n".join(parts) + "\n</body></html>\n"
    )
