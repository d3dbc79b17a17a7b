"""A certificate is read in one place (numerate/certificate_json.py), so every reader gives a file the same
meaning: the loader's precision, solve's status and `verify --check` agree on what a certificate binds, and a
file that is not one they can read is refused alike, never read with a default."""

import json
import shutil
from pathlib import Path

import pytest

from numerate.certificate_json import Certificate
from numerate.checkpoint import certified_precision, load_model
from numerate.cli import main
from numerate.errors import UsageError
from numerate.verify.binding import certificate_status

ROOT = Path(__file__).parent.parent


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(ROOT / "models" / "copy", out)
    return out


def _edit(folder: Path, change) -> Path:
    path = folder / "certificate.json"
    cert = json.loads(path.read_text())
    change(cert)
    path.write_text(json.dumps(cert))
    return path


def test_the_shipped_certificates_read_as_typed_values():
    for name, precision, method in [("copy", "float64", "ball"), ("page-add", "float32", "mean-value")]:
        cert = Certificate.of_folder(ROOT / "models" / name)
        assert cert.proven and cert.verdict == "proven"
        assert (cert.precision, cert.method) == (precision, method)
        assert certified_precision(ROOT / "models" / name) == precision
        assert cert.cases == cert.data["argument"]["cases"] and "PROVEN" in cert.summary()


def test_a_later_format_is_refused_by_every_reader(folder, capsys):
    path = _edit(folder, lambda c: c.update(format_version=2))
    with pytest.raises(UsageError, match="certificate format 2"):
        Certificate.load(path)
    assert certified_precision(folder) is None  # the loader runs it as saved, claiming nothing
    status = certificate_status(load_model(folder), folder)
    assert status.state == "unreadable" and "format 2" in status.text
    assert main(["verify", "--check", str(path), "--quiet"]) == 2
    assert "format 2" in capsys.readouterr().err


def test_a_certificate_that_binds_no_precision_applies_to_no_run(folder, capsys):
    """Readers once filled a missing precision with different defaults (float32 for solve's status, float64
    for --check); now none is assumed."""
    path = _edit(folder, lambda c: c["binds"].pop("precision"))
    assert Certificate.load(path).precision is None and certified_precision(folder) is None
    status = certificate_status(load_model(folder), folder)
    assert status.state == "does not apply" and "binds no precision" in status.text
    assert main(["verify", "--check", str(path), "--quiet"]) == 1
    assert "precision None is not one numerate proves" in capsys.readouterr().out


def test_what_is_not_a_certificate_is_refused_with_its_reason(tmp_path):
    bad = tmp_path / "c.json"
    for text, reason in [("{", "not valid JSON"), ("[1]", "not a numerate certificate"), ('{"proven": 1}', "needs")]:
        bad.write_text(text)
        with pytest.raises(UsageError, match=reason):
            Certificate.load(bad)
        assert Certificate.read(bad) is None
    with pytest.raises(UsageError, match="does not exist"):
        Certificate.load(tmp_path / "missing.json")
