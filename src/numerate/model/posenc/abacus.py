"""Abacus embeddings (McLeish et al. 2024) and position coupling (Cho et al. 2024): learned tables over digit ids.

Each digit gets its 1-based index within its number; every other token gets 0. One random offset per batch is
added to all ids while training, so the table rows for long numbers get trained; at test time a fixed offset
inside the trained range is used. The offset moves the `=` token too: the first answer digit is predicted at `=`
and must find the operand digits of index 1 + offset, which it can only do if `=` knows the offset.

With reversed numbers, an Abacus index is the digit's significance + 1, so Abacus ids and position-coupling ids
coincide; `coupling` is the same indexing with coupling's conventions (a random start of at least 1, for
zero-padded operands so all three numbers have aligned significances).
"""

import torch
from torch import nn

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import PositionalScheme, WithRows, digit_run_index, random_offset


class _DigitTable(PositionalScheme):
    settings = ("max_pos", "pos_offset_max", "pos_eval_offset")
    depends_on = frozenset({"column"})
    needs_column_layout = True
    min_offset = 0

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.table_size = cfg.max_pos
        self.offset_max, self.eval_offset = cfg.pos_offset_max, cfg.pos_eval_offset
        self.table = nn.Embedding(cfg.max_pos, cfg.n_embd)

    def positions(self, idx, generator=None):
        if self.training:
            offset = self.min_offset + random_offset(self.offset_max - self.min_offset, generator)
        else:
            offset = self.eval_offset
        return digit_run_index(idx, self.digit_ids) + offset

    def embed(self, pos: torch.Tensor) -> torch.Tensor:
        return self.table(pos)


@SCHEMES.register("abacus", "learned table over each digit's index within its number, random offset in training")
class Abacus(_DigitTable):
    pass


@SCHEMES.register("coupling", "position coupling: learned table over significance shared by operands and answer")
class Coupling(_DigitTable):
    min_offset = 1


@SCHEMES.register("coupling-multi", "multi-level coupling: tables over (significance, which number), summed")
class CouplingMulti(WithRows, Coupling):
    """Position coupling with two levels (Cho et al. 2025): each token gets (coupled id, row), where the row is
    the number it belongs to (0, 1 for the operands, 2 for the answer), and one learned table per level."""

    depends_on = frozenset({"column", "row"})

    def embed(self, pos):
        return self.table(pos[..., 0]) + self.rows(pos[..., 1])

    def fits(self, pos):
        return super().fits(None if pos is None else pos[..., 0])
