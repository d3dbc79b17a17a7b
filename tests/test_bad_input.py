"""Every bad input gives one clear message and exit 2, before any expensive work, and changes no file."""

import io
import json
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from numerate import checkpoint, cli, config
from numerate.errors import UsageError
from numerate.train.loop import train

from conftest import tiny_config

SHIPPED = Path(__file__).parent.parent / "models" / "add-proof"


def run_cli(argv, capsys, monkeypatch, stdin: bytes = b"1+2\n"):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="strict"))
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _json(data) -> bytes:
    return json.dumps(data).encode()


def _sidecar(**change) -> bytes:
    data = json.loads((SHIPPED / "config.json").read_text())
    data.update(change)
    return _json(data)


def _with_config(**model) -> bytes:
    data = json.loads((SHIPPED / "config.json").read_text())
    data["config"]["model"].update(model)
    return _json(data)


def _truncate(name: str):
    return lambda: (SHIPPED / name).read_bytes()[: len((SHIPPED / name).read_bytes()) // 2]


MODEL_CORRUPTIONS = {
    "config.json missing": ("config.json", None),
    "config.json empty": ("config.json", lambda: b""),
    "config.json truncated": ("config.json", _truncate("config.json")),
    "config.json binary": ("config.json", lambda: bytes(range(256)) * 4),
    "config.json {}": ("config.json", lambda: b"{}"),
    "config.json a list": ("config.json", lambda: b"[1, 2]"),
    "config.json vocab not a list": ("config.json", lambda: _sidecar(vocab="0123")),
    "config.json future format": ("config.json", lambda: _sidecar(format_version=99)),
    "config.json bad value": ("config.json", lambda: _with_config(n_embd="wide")),
    "config.json other shapes": ("config.json", lambda: _with_config(n_embd=32)),
    "config.json unknown key": ("config.json", lambda: _with_config(depth=3)),
    "weights missing": ("model.safetensors", None),
    "weights empty": ("model.safetensors", lambda: b""),
    "weights truncated": ("model.safetensors", _truncate("model.safetensors")),
    "weights random": ("model.safetensors", lambda: bytes(range(256)) * 64),
    "weights hash mismatch": ("config.json", lambda: _sidecar(weights_sha256="0" * 64)),
}

COMMANDS = {
    "solve": lambda m: ["solve", m, "--quiet"],
    "eval": lambda m: ["eval", m, "--lengths", "1-2", "--samples", "2", "--quiet"],
    "verify": lambda m: ["verify", m, "--quiet"],
}


@pytest.mark.parametrize("corruption", list(MODEL_CORRUPTIONS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_corrupt_model_folder(tmp_path, capsys, monkeypatch, corruption, command):
    model = tmp_path / "model"
    shutil.copytree(SHIPPED, model)
    name, content = MODEL_CORRUPTIONS[corruption]
    if content is None:
        (model / name).unlink()
    else:
        (model / name).write_bytes(content())
    before = snapshot(model)
    code, out, err = run_cli(COMMANDS[command](str(model)), capsys, monkeypatch)
    assert code == 2, err
    assert out == "" and err.startswith(f"numerate {command}: error: ") and "Traceback" not in err
    assert snapshot(model) == before


RUN_CORRUPTIONS = {
    "state missing": ("train_state.pt", None, "no training state"),
    "state empty": ("train_state.pt", lambda p: b"", "cannot be read"),
    "state truncated": ("train_state.pt", lambda p: p.read_bytes()[: p.stat().st_size // 2], "cannot be read"),
    "state random": ("train_state.pt", lambda p: bytes(range(256)) * 16, "cannot be read"),
    "state of json": ("train_state.pt", lambda p: b'{"step": 3}', "cannot be read"),
    "metrics garbage": ("metrics.jsonl", lambda p: b"not json\n" + p.read_bytes(), "line 1"),
    "metrics binary": ("metrics.jsonl", lambda p: bytes(range(128, 256)), "not text"),
    "export from the future": (
        "config.json",
        lambda p: json.dumps({**json.loads(p.read_text()), "step": 10**6}).encode(),
        "do not come from one run",
    ),
}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "run"
    train(tiny_config("train.max_steps=6", "train.eval_every=3", "train.ckpt_every=3"), folder, quiet=True)
    return folder


@pytest.mark.parametrize("corruption", list(RUN_CORRUPTIONS))
def test_corrupt_run_folder_is_not_resumed(tmp_path, capsys, monkeypatch, finished_run, corruption):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    name, change, message = RUN_CORRUPTIONS[corruption]
    if change is None:
        (run / name).unlink()
    else:
        (run / name).write_bytes(change(run / name))
    before = snapshot(run)
    tiny = str(Path(__file__).parent / "data" / "tiny.yaml")
    argv = ["train", tiny, "--out", str(run), "--resume", "--quiet"]
    argv += ["--set", "train.max_steps=6", "train.eval_every=3", "train.ckpt_every=3", "train.threads=1"]
    code, out, err = run_cli(argv, capsys, monkeypatch)
    assert code == 2 and message in err and "Traceback" not in err, err
    assert snapshot(run) == before


def test_shipped_model_cannot_be_trained_over(tmp_path, capsys, monkeypatch):
    model = tmp_path / "add-long"
    shutil.copytree(Path(__file__).parent.parent / "models" / "add-long", model)
    before = snapshot(model)
    for extra in ([], ["--resume"]):
        code, _, err = run_cli(["train", "demo", "--out", str(model), "--quiet", *extra], capsys, monkeypatch)
        assert code == 2 and "Traceback" not in err
    assert snapshot(model) == before


BAD_SETS = {
    "train.lr=.nan": "finite",
    "train.lr=.inf": "finite",
    "train.lr=0": "lr must be > 0",
    "train.min_lr_ratio=-0.5": "min_lr_ratio",
    "train.weight_decay=-1": "weight_decay",
    "train.batch_size=1000000000": "batch_size",
    "task.train_lengths=[a,b]": "train_lengths",
    "task.train_lengths=[1.5,3]": "train_lengths",
    "task.train_lengths=[5]": "train_lengths",
    "model.pos=learned model.max_pos=1": "max_pos",
    "model.n_embd=63": "n_embd",
    "model.pos=nope2": "did you mean",
    "train.device=gpu": "device",
    "format.spaces=1.5": "spaces",
    "train.max_steps=-3": "max_steps",
    "model.col_window=[1,2]": "col_window",
}


@pytest.mark.parametrize("overrides", list(BAD_SETS))
def test_bad_config_values_exit_2_before_training(tmp_path, capsys, monkeypatch, overrides):
    argv = ["train", "demo", "--out", str(tmp_path / "run"), "--quiet", "--set", *overrides.split()]
    code, out, err = run_cli(argv, capsys, monkeypatch)
    assert code == 2 and BAD_SETS[overrides] in err.lower() and "Traceback" not in err, err
    assert not (tmp_path / "run").exists()


def test_scientific_notation_is_a_number_in_yaml_and_set(tmp_path):
    (tmp_path / "c.yaml").write_text("train:\n  lr: 1e-3\n  max_steps: 1e3\n")
    cfg = config.load(str(tmp_path / "c.yaml"), ["train.weight_decay=1e-2"])
    assert (cfg.train.lr, cfg.train.max_steps, cfg.train.weight_decay) == (1e-3, 1000, 1e-2)


@pytest.mark.parametrize("content", [bytes(range(256)), b"\xff\xfe\x00binary", b"- a\n- b\n", b"train: [1\n"])
def test_unreadable_yaml_is_a_usage_error(tmp_path, content):
    (tmp_path / "c.yaml").write_bytes(content)
    with pytest.raises(UsageError):
        config.load(str(tmp_path / "c.yaml"))


def test_binary_stdin_under_strict_utf8(capsys, monkeypatch):
    code, out, err = run_cli(["solve", str(SHIPPED), "--quiet"], capsys, monkeypatch, stdin=b"1+2\n\xff\xfe+3\n")
    assert code == 2 and "line 2" in err and out == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["eval", str(SHIPPED), "--json", "no/such/folder/rows.json"], "does not exist"),
        (["eval", str(SHIPPED), "--plot", "no/such/folder/p.png"], "does not exist"),
        (["eval", str(SHIPPED), "--mistakes", "-1"], "non-negative"),
        (["eval", str(SHIPPED), "--lengths", "5-1"], "--lengths"),
        (["verify", str(SHIPPED), "--out", "no/such/folder/c.json"], "does not exist"),
        (["solve", "no/such/model"], "not a model folder"),
        (["train", "no-such-preset"], "neither a file nor a preset"),
    ],
)
def test_bad_arguments_exit_2_at_once(capsys, monkeypatch, argv, message):
    try:
        code, _, err = run_cli(argv, capsys, monkeypatch)
    except SystemExit as exc:  # argparse rejects a bad value itself, with exit 2
        code, err = exc.code, capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err, err


# Config fuzz: any mapping of any keys to any values is either a config or one UsageError, never another exception.
SECTIONS = ["task", "format", "model", "train", "extra"]
KEYS = sorted({f for cls in config.SECTION_TYPES.values() for f in cls.__dataclass_fields__}) + ["bogus"]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["1e-3", "auto", "cpu", "cuda:9", "learned", "coupling-2d", "right", "addition", "nan"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), SCALARS, max_size=2))
CONFIGS = st.dictionaries(
    st.sampled_from(SECTIONS), st.one_of(VALUES, st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4)), max_size=4
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONFIGS)
def test_config_fuzz_gives_a_config_or_a_usage_error(data):
    try:
        cfg = config.from_dict(data)
    except UsageError:
        return
    m = cfg.model
    if m.n_embd * m.n_layer * m.mlp_ratio <= 4096 and m.max_pos <= 4096:  # small enough to build here
        try:
            checkpoint.build(cfg)
        except UsageError:
            pass
