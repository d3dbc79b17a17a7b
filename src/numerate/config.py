"""Typed run configuration: defaults in code, experiments in YAML, tweaks on the command line.

Merge order: dataclass defaults < YAML file (after its `include:` chain) < `--set key=value` overrides.
Unknown keys are errors with a did-you-mean hint; the resolved config is saved with every run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any

from numerate.errors import UsageError
from numerate.registry import did_you_mean

PRESETS_DIR = Path(__file__).parent / "configs"


def opt(default, help: str, *, lo=None, hi=None, choices=None):
    """A dataclass field whose help text feeds `numerate train --help`, with the range its values must lie in
    (`lo`/`hi` inclusive; for lists, each element) and, for strings, the choices allowed."""
    meta = {"help": help, "lo": lo, "hi": hi, "choices": choices}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


class Section:
    """A config section: every field is checked for type, finiteness and range when the section is built, so a
    bad value is reported by name before any work starts (from YAML, --set or Python alike)."""

    def __post_init__(self):
        name = SECTION_NAMES.get(type(self), type(self).__name__)
        for f in dataclasses.fields(self):
            value = _coerce(
                getattr(self, f.name), f.default_factory() if f.default is MISSING else f.default, f"{name}.{f.name}"
            )
            setattr(self, f.name, value)
            _check_range(value, f.metadata, f"{name}.{f.name}")
        self.validate()

    def validate(self) -> None:
        """Checks across fields; subclasses override."""


@dataclass
class TaskConfig(Section):
    name: str = opt("addition", "registered task (see `numerate list`)")
    train_lengths: list = opt(
        [1, 10], "operand lengths [lo, hi] seen in training, each operand drawn independently", lo=1, hi=100_000
    )
    ood_lengths: list = opt(
        [11, 20], "operand lengths [lo, hi] of the longer-than-training test split", lo=1, hi=100_000
    )
    operands: list = opt(
        [], "tasks with many operands: how many [lo, hi] in training ([] = the task's default)", lo=2, hi=10_000
    )
    equal_lengths: float = opt(
        0.0,
        "tasks with many operands: fraction of training problems whose operands all share one length (full columns,"
        " as in the test cells)",
        lo=0.0,
        hi=1.0,
    )
    form_fraction: float = opt(
        0.0,
        "page programs: share of training examples that are form pages, every field the proof enumerates with its "
        "rule as the target (so the model is right on fields no sampled page shows)",
        lo=0.0,
        hi=1.0,
    )
    step_fraction: float = opt(
        0.5,
        "iterative tasks: share of training examples that are single steps (the rest are whole problems); 1 trains"
        " a step model that only the external loop can use",
        lo=0.0,
        hi=1.0,
    )

    def validate(self):
        if self.operands and (len(self.operands) != 2 or self.operands[0] > self.operands[1]):
            raise UsageError(f"task.operands must be [lo, hi] with 2 <= lo <= hi, got {self.operands}")
        for key in ("train_lengths", "ood_lengths"):
            lo_hi = getattr(self, key)
            if len(lo_hi) != 2 or not lo_hi[0] <= lo_hi[1]:
                raise UsageError(f"task.{key} must be [lo, hi] with 1 <= lo <= hi, got {lo_hi}")


@dataclass
class FormatConfig(Section):
    name: str = opt("digits", "registered format (see `numerate list`)")
    reverse: bool = opt(True, "write operands and answer least-significant digit first")
    pad: bool = opt(True, "zero-pad operands to a common length and the answer to that length + 1")
    group: int = opt(0, "a comma every this many digits (0 = none)", lo=0, hi=1000)
    group_from: str = opt(
        "right", "count digit groups from the 'right' (1,234,567) or the 'left' (123,456,7)", choices=("left", "right")
    )
    hints: bool = opt(False, "precede each digit by a letter naming its significance (index hints)")
    spaces: float = opt(0.0, "probability of a space after each digit (fixed per problem), in [0, 1)", lo=0.0, hi=0.99)
    negatives: str = opt(
        "sign",
        "negative answers: 'sign' (a minus at the most significant end) or 'complement' (ten's complement in the "
        "padded width: a top digit 9 is negative; local, so provable)",
        choices=("sign", "complement"),
    )


@dataclass
class ModelConfig(Section):
    n_layer: int = opt(2, "transformer layers (the looped block when recurrences > 1)", lo=1, hi=256)
    n_head: int = opt(4, "attention heads", lo=1, hi=256)
    n_embd: int = opt(64, "residual stream width", lo=2, hi=16384)
    mlp_ratio: int = opt(4, "MLP hidden width as a multiple of n_embd", lo=1, hi=64)
    pos: str = opt("coupling-2d", "positional scheme (see `numerate list`)")
    max_pos: int = opt(128, "size of learned position tables (learned, abacus, coupling)", lo=1, hi=1 << 22)
    pos_offset_max: int = opt(0, "largest random position offset drawn per batch while training", lo=0, hi=1 << 22)
    pos_eval_offset: int = opt(
        0, "position offset used at test time; keep it inside the trained range", lo=0, hi=1 << 22
    )
    rope_base: float = opt(10000.0, "RoPE frequency base", lo=1.0, hi=1e12)
    pos_random_max: int = opt(
        0,
        "randomized positions: while training, sequence indices are a sorted random "
        "subset of [0, pos_random_max) (0 = off)",
        lo=0,
        hi=1 << 22,
    )
    rel_clip: int = opt(4, "relative schemes: id offsets beyond +-rel_clip share one learned bias", lo=1, hi=4096)
    pos_rows: int = opt(
        16,
        "coupling-2d: rows of the learned row table (which number a token is in); rows past it share the last",
        lo=1,
        hi=4096,
    )
    tie_embeddings: bool = opt(
        False, "the output head reads with the token embedding's matrix (one table for both: fewer parameters)"
    )
    col_window: list = opt(
        [],
        "coupling-local, coupling-2d: column offsets [lo, hi] (key column - query column) a query may attend to; "
        "[] = [-rel_clip, rel_clip]. [0, 1] makes a model provable with `numerate verify`",
        lo=-4096,
        hi=4096,
    )
    posenc: dict = opt(
        {},
        "settings of one part of the positional scheme, overriding the model.* value for that part alone, e.g. "
        "{abacus: {max_pos: 256}, fire: {pos_random_max: 0}} for pos abacus+fire; each scheme accepts the keys it "
        "reads (see `numerate list`)",
    )
    recurrences: int = opt(1, "times the layer block is applied while training (1 = not looped)", lo=1, hi=1024)
    test_recurrences: int = opt(0, "recurrences at test time (0 = same as training)", lo=0, hi=1 << 16)
    input_injection: bool = opt(
        False, "add the embedded input to every layer's input (looped models always do, once per recurrence)"
    )
    memory: str = opt(
        "none",
        "persistent state: 'titans' adds to every block a neural memory written at test time by a gradient step "
        "per token (model/memory.py); 'none' = attention only",
    )
    halting: bool = opt(
        False,
        "looped models: a learned halting rule stops each token's recurrences once one more would not change its "
        "prediction (model/halting.py); test_recurrences is then the cap",
    )

    def validate(self):
        if self.n_embd % self.n_head or (self.n_embd // self.n_head) % 2:
            raise UsageError(
                f"model.n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head}) into an even head size"
            )
        if self.col_window and (len(self.col_window) != 2 or not self.col_window[0] <= 0 <= self.col_window[1]):
            raise UsageError(f"model.col_window must be [lo, hi] integers with lo <= 0 <= hi, got {self.col_window}")
        if self.halting and self.recurrences == 1:
            raise UsageError("model.halting needs a looped model: set model.recurrences > 1")
        if "learned" in self.pos.split("+") and self.pos_random_max > self.max_pos:
            raise UsageError(
                f"model.pos_random_max ({self.pos_random_max}) exceeds the table (model.max_pos = {self.max_pos})"
            )


@dataclass
class TrainConfig(Section):
    seed: int = opt(0, "seed for initialisation, data and position offsets", lo=0, hi=2**31 - 1)
    batch_size: int = opt(128, "problems per step (per process under torchrun)", lo=1, hi=1 << 24)
    max_steps: int = opt(3000, "optimizer steps; the LR schedule spans them", lo=1, hi=1 << 40)
    max_minutes: float = opt(0.0, "stop early after this many minutes (0 = no limit; not reproducible)", lo=0.0, hi=1e9)
    lr: float = opt(3e-3, "peak learning rate (AdamW), > 0", lo=0.0, hi=1e6)
    min_lr_ratio: float = opt(0.1, "final LR as a fraction of the peak, after cosine decay", lo=0.0, hi=1.0)
    warmup_steps: int = opt(100, "linear warmup steps", lo=0, hi=1 << 40)
    weight_decay: float = opt(0.1, "AdamW weight decay on matrices (not on norms, biases, embeddings)", lo=0.0, hi=1e3)
    grad_clip: float = opt(1.0, "clip the gradient norm to this (0 = off)", lo=0.0, hi=1e12)
    bucket: bool = opt(False, "one operand-length pair per batch: no padding, but slower learning per step")
    aux_loss: str = opt(
        "none",
        "a loss beside next-token cross-entropy (see `numerate list`): 'running-sum' regresses each answer digit's "
        "running sum from every attention head of layer aux_layer (train/auxiliary.py); 'none' = plain training",
    )
    aux_weight: float = opt(1.0, "weight of the auxiliary loss against cross-entropy", lo=0.0, hi=1e6)
    aux_layer: int = opt(-1, "layer whose attention heads the auxiliary probes read (-1 = the last)", lo=-256, hi=255)
    internalize: int = opt(
        0,
        "stepwise internalization (train/internalize.py): chain-of-thought tokens removed from the left of every "
        "target per stage, until the model answers directly (format.name=chain); 0 = off",
        lo=0,
        hi=1 << 20,
    )
    internalize_start: int = opt(
        500, "internalization: steps trained on the whole chain before the first removal", lo=0, hi=1 << 40
    )
    internalize_steps: int = opt(500, "internalization: optimizer steps per stage", lo=1, hi=1 << 40)
    internalize_smoothing: float = opt(
        4.0, "internalization: removal smoothing, P(o extra tokens removed) ~ exp(-lambda o); 0 = none", lo=0.0, hi=1e3
    )
    internalize_reset: bool = opt(True, "internalization: reset the optimizer's moments at every new stage")
    eval_every: int = opt(500, "steps between evaluations logged to metrics.jsonl", lo=1, hi=1 << 40)
    eval_samples: int = opt(200, "problems per split in those evaluations", lo=1, hi=1 << 24)
    ckpt_every: int = opt(500, "steps between checkpoints", lo=1, hi=1 << 40)
    snapshots: bool = opt(False, "also keep the model of every checkpoint in snapshots/step-N (to study training)")
    deterministic: bool = opt(
        True,
        "deterministic kernels: the same seed, config and thread count give byte-identical weights and metrics",
    )
    threads: int = opt(
        0,
        "torch CPU threads (0 = the cores free when the run starts, kept on --resume; more threads than free cores "
        "spin against the busy ones)",
        lo=0,
        hi=4096,
    )
    device: str = opt("auto", "auto, cpu, mps, cuda or cuda:N")

    def validate(self):
        if self.lr <= 0:
            raise UsageError(f"train.lr must be > 0, got {self.lr}")
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", self.device):
            raise UsageError(f"train.device must be auto, cpu, mps, cuda or cuda:N, got {self.device!r}")


@dataclass
class RunConfig:
    task: TaskConfig = field(default_factory=TaskConfig)
    format: FormatConfig = field(default_factory=FormatConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


SECTION_TYPES = {"task": TaskConfig, "format": FormatConfig, "model": ModelConfig, "train": TrainConfig}
SECTION_NAMES = {cls: name for name, cls in SECTION_TYPES.items()}


def _number(value: Any) -> float | None:
    """A YAML/CLI value as a float: numbers, and strings such as '1e-3' (YAML 1.1 reads those as strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Check a YAML/CLI value against the type of the field's default."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        number = _number(value)
        if number is not None and math.isfinite(number) and number == int(number):
            return int(number)  # 1e4 or 1000.0 for an integer
    elif isinstance(default, float):
        number = _number(value)
        if number is not None:
            if not math.isfinite(number):
                raise UsageError(f"{where} must be a finite number, got {value!r}")
            return number
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, dict):
        if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, dict) for k, v in value.items()):
            return {k: dict(v) for k, v in value.items()}
        raise UsageError(f"{where} must map scheme names to mappings of settings, got {value!r}")
    elif isinstance(default, list):
        if isinstance(value, (list, tuple)):
            return [_coerce(v, 0, f"{where}[{i}]") for i, v in enumerate(value)]  # every list holds integers
    raise UsageError(f"{where} expects {type(default).__name__}, got {value!r}")


def _check_range(value: Any, meta, where: str) -> None:
    lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
    if choices is not None and value not in choices:
        raise UsageError(f"{where} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise UsageError(f"{where} must lie in [{lo}, {hi}], got {value!r}")


def from_dict(data: dict, where: str = "config") -> RunConfig:
    if not isinstance(data, dict):
        raise UsageError(f"{where} must be a mapping of sections ({', '.join(SECTION_TYPES)})")
    sections = {}
    for name, cls in SECTION_TYPES.items():
        values = data.get(name) or {}
        if not isinstance(values, dict):
            raise UsageError(f"{where}: section '{name}' must be a mapping")
        defaults = cls()
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key not in known:
                raise UsageError(f"{where}: unknown key '{name}.{key}'{did_you_mean(key, known)}")
            kwargs[key] = _coerce(value, getattr(defaults, key), f"{where}: {name}.{key}")
        try:
            sections[name] = cls(**kwargs)
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}" if not str(exc).startswith(where) else str(exc)) from None
    for name in data:
        if name not in SECTION_TYPES and name != "include":
            raise UsageError(f"{where}: unknown section '{name}'{did_you_mean(name, SECTION_TYPES)}")
    return RunConfig(**sections)


def _deep_merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


PRESET_KINDS = {
    "models": "the recipes of the models shipped in models/; each model card says how it was trained",
    "experiments": "baselines, comparisons and models in progress",
}


def presets() -> dict[str, Path]:
    """Every preset shipped with the package, by name: configs/models/ and configs/experiments/."""
    return {p.stem: p for kind in PRESET_KINDS for p in sorted((PRESETS_DIR / kind).glob("*.yaml"))}


def preset_kind(path: Path) -> str:
    return path.parent.name


def resolve_path(name_or_path: str) -> Path:
    """A YAML path, or the name of a preset shipped with the package (`numerate list`), with or without .yaml."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    known = presets()
    name = name_or_path.removesuffix(".yaml")
    if name in known:
        return known[name]
    raise UsageError(f"config '{name_or_path}' is neither a file nor a preset{did_you_mean(name, known)}")


def read_yaml(path: Path, seen: tuple = ()) -> dict:
    import yaml

    if path.resolve() in seen:
        raise UsageError(f"{path}: include cycle")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a text file (expected YAML)") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: must hold a mapping of sections")
    include = data.pop("include", None)
    if include:
        base_path = (path.parent / include) if not Path(include).is_absolute() else Path(include)
        if not base_path.is_file():
            base_path = resolve_path(str(include))
        data = _deep_merge(read_yaml(base_path, seen + (path.resolve(),)), data)
    return data


def parse_overrides(pairs: list[str]) -> dict:
    import yaml

    out: dict = {}
    for pair in pairs:
        if "=" not in pair or "." not in pair.split("=", 1)[0]:
            raise UsageError(f"override '{pair}' must look like section.key=value, e.g. model.n_layer=3")
        key, raw = pair.split("=", 1)
        section, name = key.split(".", 1)
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        out.setdefault(section, {})[name] = value
    return out


def load(name_or_path: str | None, overrides: list[str] = ()) -> RunConfig:
    data = read_yaml(resolve_path(name_or_path)) if name_or_path else {}
    data = _deep_merge(data, parse_overrides(list(overrides)))
    return from_dict(data, where=str(name_or_path or "config"))


def save(cfg: RunConfig, path: Path) -> None:
    path.write_text(json.dumps(cfg.to_dict(), indent=2))


def help_text() -> str:
    lines = []
    for section, cls in SECTION_TYPES.items():
        for f in dataclasses.fields(cls):
            default = getattr(cls(), f.name)
            lines.append(f"  {section}.{f.name} = {default!r}\n      {f.metadata.get('help', '')}")
    return "\n".join(lines)
