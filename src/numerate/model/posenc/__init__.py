"""Positional schemes, registered by name. Each is one small file; `base.py` documents the hooks."""

from numerate.model.posenc.base import SCHEMES, PositionalScheme
from numerate.model.posenc import abacus, alibi, fire, learned, nope, relative, rope, sinusoidal, twod  # noqa: E402,F401,I001

__all__ = ["SCHEMES", "PositionalScheme", "build_scheme"]


def build_scheme(cfg, digit_ids: list[int]) -> "PositionalScheme":
    """The scheme named by `cfg.pos` (a ModelConfig), told which token ids are digits; 'a+b' combines schemes."""
    if "+" in cfg.pos:
        from numerate.model.posenc.combined import build_combined

        return build_combined(cfg.pos.split("+"), cfg, digit_ids, SCHEMES)
    return SCHEMES.get(cfg.pos)(cfg, digit_ids)
