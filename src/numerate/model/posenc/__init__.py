"""Positional schemes, registered by name. Each is one small file; `base.py` documents the hooks."""

from numerate.registry import Registry

SCHEMES: Registry = Registry("positional scheme")

from numerate.model.posenc import abacus, alibi, fire, learned, nope, relative, rope, sinusoidal, twod  # noqa: E402,F401,I001
from numerate.model.posenc.base import PositionalScheme  # noqa: E402,F401


def build_scheme(cfg, digit_ids: list[int]) -> "PositionalScheme":
    """The scheme named by `cfg.pos` (a ModelConfig), told which token ids are digits; 'a+b' combines schemes."""
    if "+" in cfg.pos:
        from numerate.model.posenc.combined import build_combined

        return build_combined(cfg.pos.split("+"), cfg, digit_ids, SCHEMES)
    return SCHEMES.get(cfg.pos)(cfg, digit_ids)
