"""A page whose lines come in a repeating cycle of kinds, each reading its own few lines above.

Long multiplication done by hand is such a page (tasks/multiplication_page.py). Step j writes seven lines: a
shifted copy of a, what is left of b, b's digit j repeated under a, the carries of a times it, the partial
product, the carries of the sum and the running sum. Each line is made from two or three lines above it, always
the same ones at the same row offsets: the carries of the product from a's copy three rows up and the repeated
digit one row up, the running sum from the one seven rows up and the partial product and carries below it. So
the scheme gives every row a *kind* (its row modulo the cycle) and lets a query attend only to keys in the rows
its kind declares (`ROW_OFFSETS`, offset 0 being its own line) and in columns 0..+1 of its own; every other key
is masked out. One learned bias per head for each (kind, row offset, column offset), and one learned vector per
kind added to each token, are all it gives the model.

Where a token sits, from the tokens before it alone (so decoding can number a growing page):

- a non-digit that follows a digit *closes* its line; the row is the number of lines closed before a token;
- a non-digit that follows a closing mark, and the prompt's mark, *opens* a line of work, in column 0;
- any other non-digit (after an opening mark or another such) is a *fill*: a column of the line left blank,
  as the shifted copies leave their lowest columns;
- in the question (before the prompt's mark) a line has no opening mark: its first digit is column 1.

The row kind is the only thing here that is not an offset; it repeats with the cycle, so shifting a page by whole
steps changes nothing the model sees, and nothing grows with the number of lines or digits.
"""

from __future__ import annotations

import torch
from torch import nn

from numerate.model.posenc.base import SCHEMES, PositionalScheme

CELL, FILL, OPEN, CLOSE = 0, 1, 2, 3  # what a token is on the page (pos[..., 2])


class PageCycle(PositionalScheme):
    """A page of lines whose kinds repeat with period len(ROW_OFFSETS); kind k reads rows ROW_OFFSETS[k]."""

    ROW_OFFSETS: tuple[tuple[int, ...], ...] = ()
    settings = ("col_window",)
    depends_on = frozenset({"column-offset", "row-offset", "row-kind"})
    needs_column_layout = True
    needs_marks = True
    line_step = 1  # rows from one line of work to the next (what eval/page_decode.py steps by)
    page_lines = True

    def __init__(self, cfg, digit_ids, mark_ids):
        super().__init__(cfg, digit_ids)
        self.register_buffer("mark_ids", torch.tensor(list(mark_ids), dtype=torch.long), persistent=False)
        self.window = tuple(cfg.col_window) if cfg.col_window else (0, 1)
        self.period = len(self.ROW_OFFSETS)
        lo = min(min(o) for o in self.ROW_OFFSETS)
        self.row_window = (lo, 0)
        # slot[kind, drow - lo]: which of the kind's declared rows a key at that offset is in, or -1 (masked)
        slot = torch.full((self.period, 1 - lo), -1, dtype=torch.long)
        for kind, offsets in enumerate(self.ROW_OFFSETS):
            for i, off in enumerate(sorted(set(offsets) | {0})):
                slot[kind, off - lo] = i
        self.register_buffer("slot", slot, persistent=False)
        n_slots = int(slot.max()) + 1
        self.table = nn.Parameter(torch.zeros(cfg.n_head, self.period, n_slots, self.window[1] - self.window[0] + 1))
        self.kind = nn.Embedding(self.period, cfg.n_embd)

    def row_offsets(self, kind: int) -> tuple[int, ...]:
        """The row offsets a query of this kind may read (its own row included)."""
        return tuple(sorted(set(self.ROW_OFFSETS[kind]) | {0}))

    def kind_vectors(self, kinds: torch.Tensor) -> torch.Tensor:
        """The vector added to a token of a row of each kind."""
        return self.kind(kinds)

    def cell_bias(self, kind: int, row_offset: int, col_offset: int) -> torch.Tensor:
        """(n_head,): the bias a query of this kind gives a key at these offsets (one it may read)."""
        slot = int(self.slot[kind, row_offset - self.row_window[0]])
        return self.table[:, kind, slot, col_offset - self.window[0]]

    def positions(self, idx, generator=None):
        """(B, T, 3): [..., 0] the column, [..., 1] the row, [..., 2] what the token is (CELL, FILL, OPEN, CLOSE)."""
        rows, cols, what = self.layout(idx)
        return torch.stack((cols, rows, what), dim=-1)

    def coordinates(self, idx):
        """(rows, columns), each (B, T)."""
        rows, cols, _ = self.layout(idx)
        return rows, cols

    def layout(self, idx):
        B, T = idx.shape
        is_digit = torch.isin(idx, self.digit_ids)
        prompt_mark = torch.isin(idx, self.mark_ids)
        other = ~is_digit & (idx != 0)  # pad is id 0
        before_digit = torch.zeros_like(is_digit)
        before_digit[:, 1:] = is_digit[:, :-1]
        closes = other & before_digit & ~prompt_mark
        before_close = torch.zeros_like(closes)
        before_close[:, 1:] = closes[:, :-1]
        working = prompt_mark.long().cumsum(dim=1) > 0
        opens = other & ~closes & (prompt_mark | (before_close & working))
        what = torch.where(is_digit, CELL, torch.where(closes, CLOSE, torch.where(opens, OPEN, FILL)))
        rows = closes.long().cumsum(dim=1) - closes.long()
        t = torch.arange(T, device=idx.device).expand(B, T)
        start = torch.where(before_close, t, torch.zeros_like(t)).cummax(dim=1).values  # first token of the row
        cols = t - start + (~working).long()
        return rows, cols, what.long()

    def columns(self, pos):
        return pos[..., 0]

    def embed(self, pos):
        return self.kind(pos[..., 1] % self.period)

    def bias(self, pos_q, pos_k):
        dcol = pos_k[:, None, :, 0] - pos_q[:, :, None, 0]  # (B, Tq, Tk)
        drow = pos_k[:, None, :, 1] - pos_q[:, :, None, 1]
        kind = (pos_q[..., 1] % self.period)[:, :, None].expand_as(drow)
        lo, (c0, c1) = self.row_window[0], self.window
        in_rows = (drow >= lo) & (drow <= 0)
        slot = self.slot[kind, (drow - lo).clamp(0, -lo)]
        inside = in_rows & (slot >= 0) & (dcol >= c0) & (dcol <= c1)
        bias = self.table[:, kind, slot.clamp(min=0), (dcol - c0).clamp(0, c1 - c0)]  # (H, B, Tq, Tk)
        return bias.transpose(0, 1).masked_fill(~inside[:, None], float("-inf"))


@SCHEMES.register(
    "page-mul",
    "a long-multiplication page: seven kinds of line per digit of b, each reading its own rows above, masked outside",
)
class PageMul(PageCycle):
    # Step j of a * b (tasks/multiplication_page.py), rows 7j + 0..6, and the rows each line is made from:
    ROW_OFFSETS = (
        (-7,),  # 0 a * 10^j: the line above it of its kind, shifted one column
        (-7,),  # 1 b with its lowest j digits blanked: the one above, one more digit blanked
        (-2, -1),  # 2 b_j repeated under a's digits: a's copy, and b_j where a's copy starts
        (-3, -1),  # 3 the carries of a * b_j: a's copy and the repeated digit
        (-4, -2, -1),  # 4 a * b_j * 10^j: a's copy, the repeated digit, the carries
        (-6, -1),  # 5 the carries of the running sum plus the partial product
        (-7, -2, -1),  # 6 the running sum: the one before, the partial product, the carries
    )
