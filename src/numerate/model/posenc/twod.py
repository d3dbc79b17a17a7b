"""2-D positions: a column (significance, as coupled ids) and a row (which number the token belongs to).

People add numbers written one above the other: digits of equal significance form a column, and each number is a
row. A transformer reads one line, so here each token gets both coordinates explicitly:

- column: the coupled digit id (significance + 1, plus an offset), used through a learned relative bias on the
  column offset, with keys more than `rel_clip` columns away masked out (as in `coupling-local`);
- row: the number of separator tokens before it (0 for the first operand, 1 for the second, 2 for the answer),
  added to the token embedding from a small learned table.

Neither coordinate grows with the length of the numbers, so nothing the model sees at 1000 digits is new.
"""

import torch

from numerate.model.posenc.base import SCHEMES
from numerate.model.posenc.base import WithRows
from numerate.model.posenc.relative import CouplingLocal


@SCHEMES.register("coupling-2d", "2-D: column = coupled digit id (local relative bias), row = which number")
class Coupling2D(WithRows, CouplingLocal):
    depends_on = frozenset({"column-offset", "row"})
    settings = CouplingLocal.settings + ("pos_rows",)

    def embed(self, pos):
        return self.rows(pos[..., 1])

    def bias(self, pos_q, pos_k):
        return super().bias(pos_q[..., 0], pos_k[..., 0])


@SCHEMES.register(
    "coupling-2d-answer",
    "2-D with two rows, operand or answer: any number of operands look alike (many-operand addition)",
)
class Coupling2DAnswer(Coupling2D):
    """As coupling-2d, but the row says only whether a token is in the answer (after the prompt's mark) or not: a
    problem with 30 operands puts its digits in the same two rows as one with 3, where coupling-2d gives operand k
    row k (and rows past 15 share one embedding, so a long sum's answer row meets operand rows)."""

    needs_marks = True

    def __init__(self, cfg, digit_ids, mark_ids):
        super().__init__(cfg, digit_ids)
        self.register_buffer("mark_ids", torch.tensor(list(mark_ids), dtype=torch.long), persistent=False)

    def positions(self, idx, generator=None):
        pos = super().positions(idx, generator)
        mark = torch.isin(idx, self.mark_ids).long()
        answer = (mark.cumsum(dim=1) - mark).clamp(max=1)  # the mark itself still belongs to the prompt
        return torch.stack((pos[..., 0], answer), dim=-1)

    def next_positions(self, last_pos, last_tok, new_tok):
        pos = super().next_positions(last_pos, last_tok, new_tok)
        after_mark = torch.isin(last_tok, self.mark_ids).long()
        return torch.stack((pos[..., 0], (last_pos[..., 1] + after_mark).clamp(max=1)), dim=-1)
