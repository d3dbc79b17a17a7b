"""Typed run configuration: defaults in code, experiments in YAML, tweaks on the command line.

Merge order: dataclass defaults < YAML file (after its `include:` chain) < `--set key=value` overrides.
Unknown keys are errors with a did-you-mean hint; the resolved config is saved with every run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numerate.errors import UsageError
from numerate.registry import did_you_mean

PRESETS_DIR = Path(__file__).parent / "configs"


def opt(default, help: str):
    """A dataclass field whose help text feeds `numerate train --help`."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class TaskConfig:
    name: str = opt("addition", "registered task (see `numerate list`)")
    train_lengths: list = opt([1, 10], "operand lengths [lo, hi] seen in training, each operand drawn independently")
    ood_lengths: list = opt([11, 20], "operand lengths [lo, hi] of the longer-than-training test split")

    def __post_init__(self):
        for key in ("train_lengths", "ood_lengths"):
            lo_hi = getattr(self, key)
            if len(lo_hi) != 2 or not 1 <= lo_hi[0] <= lo_hi[1]:
                raise UsageError(f"task.{key} must be [lo, hi] with 1 <= lo <= hi, got {lo_hi}")


@dataclass
class FormatConfig:
    name: str = opt("digits", "registered format (see `numerate list`)")
    reverse: bool = opt(True, "write operands and answer least-significant digit first")
    pad: bool = opt(True, "zero-pad operands to a common length and the answer to that length + 1")
    group: int = opt(0, "a comma every this many digits (0 = none)")
    group_from: str = opt("right", "count digit groups from the 'right' (1,234,567) or the 'left' (123,456,7)")
    hints: bool = opt(False, "precede each digit by a letter naming its significance (index hints)")
    spaces: float = opt(0.0, "probability of a space after each digit (fixed per problem)")

    def __post_init__(self):
        if self.group < 0 or self.group_from not in ("left", "right") or not 0 <= self.spaces < 1:
            raise UsageError("format: group must be >= 0, group_from 'left' or 'right', spaces in [0, 1)")


@dataclass
class ModelConfig:
    n_layer: int = opt(2, "transformer layers (the looped block when recurrences > 1)")
    n_head: int = opt(4, "attention heads")
    n_embd: int = opt(64, "residual stream width")
    mlp_ratio: int = opt(4, "MLP hidden width as a multiple of n_embd")
    pos: str = opt("coupling-2d", "positional scheme (see `numerate list`)")
    max_pos: int = opt(128, "size of learned position tables (learned, abacus, coupling)")
    pos_offset_max: int = opt(0, "largest random position offset drawn per batch while training")
    pos_eval_offset: int = opt(0, "position offset used at test time; keep it inside the trained range")
    rope_base: float = opt(10000.0, "RoPE frequency base")
    pos_random_max: int = opt(
        0,
        "randomized positions: while training, sequence indices are a sorted random "
        "subset of [0, pos_random_max) (0 = off)",
    )
    rel_clip: int = opt(4, "relative schemes: id offsets beyond +-rel_clip share one learned bias")
    col_window: list = opt(
        [],
        "coupling-local, coupling-2d: column offsets [lo, hi] (key column - query column) a query may attend to; "
        "[] = [-rel_clip, rel_clip]. [0, 1] makes a model provable with `numerate verify`",
    )
    recurrences: int = opt(1, "times the layer block is applied while training (1 = not looped)")
    test_recurrences: int = opt(0, "recurrences at test time (0 = same as training)")
    input_injection: bool = opt(
        False, "add the embedded input to every layer's input (looped models always do, once per recurrence)"
    )

    def __post_init__(self):
        if self.n_embd % self.n_head or (self.n_embd // self.n_head) % 2:
            raise UsageError(
                f"model.n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head}) into an even head size"
            )
        for key in ("n_layer", "n_head", "n_embd", "mlp_ratio", "max_pos", "recurrences"):
            if getattr(self, key) < 1:
                raise UsageError(f"model.{key} must be >= 1, got {getattr(self, key)}")
        if self.col_window and (
            len(self.col_window) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in self.col_window)
            or not self.col_window[0] <= 0 <= self.col_window[1]
        ):
            raise UsageError(f"model.col_window must be [lo, hi] integers with lo <= 0 <= hi, got {self.col_window}")
        if "learned" in self.pos.split("+") and self.pos_random_max > self.max_pos:
            raise UsageError(
                f"model.pos_random_max ({self.pos_random_max}) exceeds the table (model.max_pos = {self.max_pos})"
            )


@dataclass
class TrainConfig:
    seed: int = opt(0, "seed for initialisation, data and position offsets")
    batch_size: int = opt(128, "problems per step (per process under torchrun)")
    max_steps: int = opt(3000, "optimizer steps; the LR schedule spans them")
    max_minutes: float = opt(0.0, "stop early after this many minutes (0 = no limit; not reproducible)")
    lr: float = opt(3e-3, "peak learning rate (AdamW)")
    min_lr_ratio: float = opt(0.1, "final LR as a fraction of the peak, after cosine decay")
    warmup_steps: int = opt(100, "linear warmup steps")
    weight_decay: float = opt(0.1, "AdamW weight decay on matrices (not on norms, biases, embeddings)")
    grad_clip: float = opt(1.0, "clip the gradient norm to this (0 = off)")
    bucket: bool = opt(False, "one operand-length pair per batch: no padding, but slower learning per step")
    eval_every: int = opt(500, "steps between evaluations logged to metrics.jsonl")
    eval_samples: int = opt(200, "problems per split in those evaluations")
    ckpt_every: int = opt(500, "steps between checkpoints")
    snapshots: bool = opt(False, "also keep the model of every checkpoint in snapshots/step-N (to study training)")
    threads: int = opt(0, "torch CPU threads (0 = torch's default)")
    device: str = opt("auto", "auto, cpu, cuda or cuda:N")

    def __post_init__(self):
        for key in ("batch_size", "max_steps", "eval_every", "eval_samples", "ckpt_every"):
            if getattr(self, key) < 1:
                raise UsageError(f"train.{key} must be >= 1, got {getattr(self, key)}")
        if self.threads < 0 or self.warmup_steps < 0 or self.lr <= 0:
            raise UsageError("train.threads and train.warmup_steps must be >= 0 and train.lr > 0")


@dataclass
class RunConfig:
    task: TaskConfig = field(default_factory=TaskConfig)
    format: FormatConfig = field(default_factory=FormatConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


SECTION_TYPES = {"task": TaskConfig, "format": FormatConfig, "model": ModelConfig, "train": TrainConfig}


def _coerce(value: Any, default: Any, where: str) -> Any:
    """Check a YAML/CLI value against the type of the field's default."""
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(default, str):
        if isinstance(value, str):
            return value
    elif isinstance(default, list):
        if isinstance(value, (list, tuple)):
            return list(value)
    raise UsageError(f"{where} expects {type(default).__name__}, got {value!r}")


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
        sections[name] = cls(**kwargs)
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


def resolve_path(name_or_path: str) -> Path:
    """A YAML path, or the name of a preset shipped with the package (`numerate list`)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    preset = PRESETS_DIR / f"{name_or_path}.yaml"
    if preset.is_file():
        return preset
    known = [p.stem for p in PRESETS_DIR.glob("*.yaml")]
    raise UsageError(f"config '{name_or_path}' is neither a file nor a preset{did_you_mean(name_or_path, known)}")


def read_yaml(path: Path, seen: tuple = ()) -> dict:
    import yaml

    if path.resolve() in seen:
        raise UsageError(f"{path}: include cycle")
    try:
        data = yaml.safe_load(path.read_text()) or {}
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
