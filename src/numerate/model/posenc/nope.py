"""NoPE: no positional information beyond what causal attention implies (Kazemnejad et al. 2023)."""

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import PositionalScheme


@SCHEMES.register("nope", "no positional encoding; causal masking only")
class NoPE(PositionalScheme):
    pass
