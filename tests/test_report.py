"""`numerate report DIR`: one self-contained page per folder kind, rendered in headless Chromium (Debian's package):
the screenshot is not blank and the page's text holds the folder's key numbers, read from its results file."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from numerate import cli
from numerate.train.loop import train

from conftest import tiny_config

ROOT = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("NUMERATE_REQUIRE_CHROMIUM"),
    reason="Debian's chromium is not installed (CI installs it and sets NUMERATE_REQUIRE_CHROMIUM)",
)


def _render(page: Path, tmp_path: Path) -> tuple[str, np.ndarray]:
    """(the page's text as Chromium's DOM has it, the screenshot's pixels) — offline, from file://."""
    assert CHROMIUM, "chromium is required here (apt-get install chromium)"
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1200,1600", f"--screenshot={shot}"]
        + [page.resolve().as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    import matplotlib.image

    return dom.stdout, matplotlib.image.imread(shot)


def _not_blank(pixels: np.ndarray) -> None:
    rgb = pixels[..., :3]
    ink = (rgb.mean(axis=-1) < 0.8).mean()  # share of pixels that are not (near) white
    assert ink > 0.01 and rgb.std() > 0.05, f"screenshot looks blank ({ink:.4f} inked)"


def _report(folder: Path, out: Path, capsys) -> Path:
    assert cli.main(["report", str(folder), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


@needs_chromium
def test_run_folder_page(tmp_path, capsys):
    run = tmp_path / "run"
    train(tiny_config(), run, quiet=True)
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    text, pixels = _render(_report(run, tmp_path / "run.html", capsys), tmp_path)
    _not_blank(pixels)
    assert f"last at step {last['step']}" in text and f"{last['loss']:.4g}" in text
    assert "data:image/png;base64," in text and "http" not in text.split("<body>")[1].lower()


@needs_chromium
def test_certificate_page(tmp_path, capsys):
    folder = ROOT / "models" / "add-proof"
    cert = json.loads((folder / "certificate.json").read_text())
    text, pixels = _render(_report(folder, tmp_path / "cert.html", capsys), tmp_path)
    _not_blank(pixels)
    assert "PROVEN" in text and f"{cert['margin']['min_midpoint']:.3f}" in text
    assert str(cert["argument"]["cases"]) in text
    for c in cert["argument"]["classes"]:
        assert f"{c['min_margin']:.4g}" in text


@needs_chromium
def test_comparison_page(tmp_path, capsys):
    folder = ROOT / "bench" / "results" / "compare-sub"
    summary = json.loads((folder / "results.json").read_text())["summary"]
    text, pixels = _render(_report(folder, tmp_path / "compare.html", capsys), tmp_path)
    _not_blank(pixels)
    for variant, bands in summary.items():
        x = bands["in distribution"]
        assert variant in text and f"{x['median']:.1f} [{x['min']:.1f}-{x['max']:.1f}]" in text


@pytest.mark.parametrize("name", ["smollm2-addition-chat-3shot", "iterate-proof"])
@needs_chromium
def test_probe_and_lab_pages(tmp_path, capsys, name):
    folder = ROOT / "bench" / "results" / name
    data = json.loads((folder / "results.json").read_text())
    rows = data["rows"] if isinstance(data["rows"], list) else [r for v in data["rows"].values() for r in v]
    text, pixels = _render(_report(folder, tmp_path / f"{name}.html", capsys), tmp_path)
    _not_blank(pixels)
    for r in rows:
        assert f"{r['exact_match' if 'exact_match' in r else 'exact']:.4g}" in text


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "is not a folder"),
        (lambda p: p, "holds nothing a report shows"),
        (lambda p: [(p / "results.json").write_text("{oops"), p][1], "not valid JSON"),
    ],
)
def test_bad_folders_exit_2(tmp_path, capsys, make, message):
    folder = make(tmp_path)
    assert cli.main(["report", str(folder), "--out", str(tmp_path / "r.html")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
