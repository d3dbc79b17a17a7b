"""Positional schemes, registered by name. Each is one small file; `base.py` documents the hooks."""

import dataclasses

from numerate.errors import UsageError
from numerate.model.posenc.base import SCHEMES, PositionalScheme
from numerate.registry import did_you_mean, import_submodules

import_submodules(__name__, __path__)  # every module here registers its schemes (combined.py registers none)

__all__ = ["SCHEMES", "PositionalScheme", "build_scheme", "ignored_settings"]


def ignored_settings(cfg) -> list[str]:
    """The `model.*` keys that only positional schemes read, set away from their default, that no part of
    `cfg.pos` reads: a setting left behind by switching `model.pos` (a column window on a scheme without columns)."""
    from numerate.config import ModelConfig

    names = cfg.pos.split("+")
    read = {key for name in names if name in SCHEMES.names() for key in SCHEMES.get(name).settings}
    scheme_keys = {key for name in SCHEMES.names() for key in SCHEMES.get(name).settings}
    default = ModelConfig()
    return sorted(
        f"model.{key}={getattr(cfg, key)!r}"
        for key in scheme_keys - read
        if hasattr(default, key) and getattr(cfg, key) != getattr(default, key)
    )


def ignored_settings_warning(cfg) -> str | None:
    """One line naming every setting `ignored_settings` finds, or None."""
    keys = ignored_settings(cfg)
    if not keys:
        return None
    return (
        f"warning: {', '.join(keys)} is read by no part of model.pos={cfg.pos} and has no effect (a setting of "
        "another scheme: set it back to its default or drop it)"
    )


def build_scheme(cfg, digit_ids: list[int], mark_ids: list[int] = ()) -> "PositionalScheme":
    """The scheme named by `cfg.pos` (a ModelConfig), told which token ids are digits (and, for schemes that ask
    with `needs_marks`, which end a prompt); 'a+b' combines schemes. Each part is built from the model config with
    its own `model.posenc.<name>` settings applied."""
    names = cfg.pos.split("+")
    classes = [SCHEMES.get(name) for name in names]
    for name in cfg.posenc:
        if name not in names:
            raise UsageError(
                f"model.posenc.{name}: '{name}' is not a part of model.pos={cfg.pos}{did_you_mean(name, names)}"
            )
    parts = [
        cls(part_config(cfg, name, cls), digit_ids, *((mark_ids,) if cls.needs_marks else ()))
        for name, cls in zip(names, classes)
    ]
    if len(parts) == 1:
        return parts[0]
    from numerate.model.posenc.combined import Combined

    return Combined(cfg, digit_ids, parts)


def part_config(cfg, name: str, cls) -> object:
    """`cfg` with the part's own settings (model.posenc.<name>) in place of the shared model.* values."""
    overrides = cfg.posenc.get(name, {})
    for key in overrides:
        if key not in cls.settings:
            raise UsageError(
                f"model.posenc.{name}.{key}: scheme '{name}' has no setting '{key}'{did_you_mean(key, cls.settings)} "
                f"(its settings: {', '.join(cls.settings)})"
            )
    if not overrides:
        return cfg
    try:
        return dataclasses.replace(cfg, posenc={}, **overrides)
    except UsageError as exc:
        raise UsageError(f"model.posenc.{name}: {exc}") from None
