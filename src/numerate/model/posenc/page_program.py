"""A page whose lines' kinds the model writes: each line's kind is its place in a block and the mark that opens it.

The multiplication page (page_grid.py) knows every line's kind from its row number: step j always writes the same
seven lines. A page on which the model decides cannot: after a comparison, the next block of lines subtracts, or
shifts, or the page ends, and which one is the model's choice. So the model writes its choice as the mark that
opens each line (tasks/page_program.py), and a line's *kind* is (its position in the block, that mark): its row
counted from the first line of work modulo the block's length, and the opening mark of its own row. Both are read
from the tokens alone, like the rows and columns, so decoding can place a growing page; neither grows with the
page.

A query attends only to its own token and to the cells its kind declares (`READS`, from the task's declaration:
a row offset and the column offsets read there, within 0..+2); every other key is masked out. One learned bias
per head for
each (kind, row offset, column offset), and one learned vector per kind added to each token, are all the scheme
gives the model. The question's rows have kinds of their own (one per row).

The marks a model may open a line with are the task's prompt marks (`mark_ids`, the prompt's first); which of
them opens a row is the row's variant.
"""

from __future__ import annotations

import torch
from torch import nn

from numerate.model.posenc.base import SCHEMES, PositionalScheme
from numerate.model.posenc.page_grid import CELL, CLOSE, FILL, OPEN
from numerate.tasks.division_page import DIVISION
from numerate.tasks.gcd_page import EUCLID
from numerate.tasks.modmul_page import MODMUL


class PageProgram(PositionalScheme):
    """Kinds: the question's rows first, then (variant, position in the block) for lines of work."""

    QUESTION_ROWS = 0
    BLOCK = 1
    READS: dict = {}  # (position in block, variant index) -> ((row offset, column offsets), ...) that kind reads
    settings = ()
    depends_on = frozenset({"column-offset", "row-offset", "row-kind"})
    needs_column_layout = True
    needs_marks = True
    page_lines = True  # eval/page_decode.py writes it a line at a time, each line's kind from its opening mark
    line_step = 1

    def __init__(self, cfg, digit_ids, mark_ids):
        super().__init__(cfg, digit_ids)
        self.register_buffer("mark_ids", torch.tensor(list(mark_ids), dtype=torch.long), persistent=False)
        # as many variants as the declaration reads (a task with fewer marks never opens a line with the others)
        self.variants = 1 + max(variant for _, variant in self.READS)
        self.window = (0, max(c for reads in self.READS.values() for _, cols in reads for c in cols))
        self.n_kinds = self.QUESTION_ROWS + self.variants * self.BLOCK
        lo = min(off for reads in self.READS.values() for off, _ in reads)
        self.row_window = (lo, 0)
        # slot[kind, drow - lo]: which of the kind's declared rows a key at that offset is in, or -1 (masked).
        # The question's kinds never query (the model writes no question token), so they read their own row only.
        slot = torch.full((self.n_kinds, 1 - lo), -1, dtype=torch.long)
        slot[:, -lo] = 0
        # allowed[kind, drow - lo, dcol]: the cells a kind reads, and its own token
        allowed = torch.zeros((self.n_kinds, 1 - lo, self.window[1] + 1), dtype=torch.bool)
        allowed[:, -lo, 0] = True
        for (position, variant), reads in self.READS.items():
            kind = self.kind_index(position, variant)
            for i, off in enumerate(sorted({off for off, _ in reads} | {0})):
                slot[kind, off - lo] = i
            for off, cols in reads:
                allowed[kind, off - lo, list(cols)] = True
        self.register_buffer("slot", slot, persistent=False)
        self.register_buffer("allowed", allowed, persistent=False)
        n_slots = int(slot.max()) + 1
        self.table = nn.Parameter(torch.zeros(cfg.n_head, self.n_kinds, n_slots, self.window[1] - self.window[0] + 1))
        self.kind = nn.Embedding(self.n_kinds, cfg.n_embd)

    @property
    def period(self) -> int:
        return self.BLOCK

    def kind_index(self, position: int, variant: int) -> int:
        return self.QUESTION_ROWS + variant * self.BLOCK + position

    def line_kind(self, row: int, opener: int | None) -> int:
        """The kind of a row opened by the token `opener` (None for a question row)."""
        if opener is None or row < self.QUESTION_ROWS:
            return min(row, max(self.QUESTION_ROWS - 1, 0))
        ids = self.mark_ids.tolist()
        variant = ids.index(opener) if opener in ids else 0  # as `layout` reads a mark that is no variant's
        return self.kind_index((row - self.QUESTION_ROWS) % self.BLOCK, variant)

    def kind_vectors(self, kinds: torch.Tensor) -> torch.Tensor:
        return self.kind(kinds)

    def cell_bias(self, kind: int, row_offset: int, col_offset: int) -> torch.Tensor:
        """(n_head,): the bias a query of this kind gives a key at these offsets (one it may read)."""
        slot = int(self.slot[kind, row_offset - self.row_window[0]])
        if not self.allowed[kind, row_offset - self.row_window[0], col_offset - self.window[0]]:
            return torch.full_like(self.table[:, kind, slot, 0], float("-inf"))
        return self.table[:, kind, slot, col_offset - self.window[0]]

    def row_offsets(self, kind: int) -> tuple[int, ...]:
        """The row offsets a query of this kind may read (its own row included)."""
        lo = self.row_window[0]
        return tuple(int(i) + lo for i in torch.nonzero(self.slot[kind] >= 0).flatten())

    def reads(self, kind: int, row_offset: int) -> tuple[int, ...]:
        """The column offsets a query of this kind reads in the row at this offset."""
        return tuple(torch.nonzero(self.allowed[kind, row_offset - self.row_window[0]]).flatten().tolist())

    def positions(self, idx, generator=None):
        """(B, T, 4): [..., 0] the column, [..., 1] the row, [..., 2] what the token is, [..., 3] its row's kind."""
        rows, cols, what, kinds = self.page_layout(idx)
        return torch.stack((cols, rows, what, kinds), dim=-1)

    def coordinates(self, idx):
        rows, cols, _, _ = self.page_layout(idx)
        return rows, cols

    def layout(self, idx):
        """(rows, columns, what each token is), each (B, T), as the other page schemes."""
        return self.page_layout(idx)[:3]

    def page_layout(self, idx):
        """(rows, columns, what, kinds), each (B, T): `layout` and each token's row kind."""
        B, T = idx.shape
        is_digit = torch.isin(idx, self.digit_ids)
        prompt_mark = idx == self.mark_ids[0]
        other = ~is_digit & (idx != 0)  # pad is id 0
        before_digit = torch.zeros_like(is_digit)
        before_digit[:, 1:] = is_digit[:, :-1]
        closes = other & before_digit
        before_close = torch.zeros_like(closes)
        before_close[:, 1:] = closes[:, :-1]
        working = prompt_mark.long().cumsum(dim=1) > 0
        opens = other & ~closes & (prompt_mark | (before_close & working))
        what = torch.where(is_digit, CELL, torch.where(closes, CLOSE, torch.where(opens, OPEN, FILL)))
        rows = closes.long().cumsum(dim=1) - closes.long()
        t = torch.arange(T, device=idx.device).expand(B, T)
        start = torch.where(before_close, t, torch.zeros_like(t)).cummax(dim=1).values  # first token of the row
        cols = t - start + (~working).long()
        # the row's variant: which mark opened it (the last opening mark at or before each token of a line of work)
        opener_at = torch.where(opens, t, torch.full_like(t, -1)).cummax(dim=1).values
        opener = idx.gather(1, opener_at.clamp(min=0))
        variant = (opener[..., None] == self.mark_ids).long().argmax(dim=-1)
        position = (rows - self.QUESTION_ROWS) % self.BLOCK
        on_work = working & (rows >= self.QUESTION_ROWS)
        kinds = torch.where(
            on_work,
            self.QUESTION_ROWS + variant * self.BLOCK + position,
            rows.clamp(max=max(self.QUESTION_ROWS - 1, 0)),
        )
        return rows, cols, what.long(), kinds

    def columns(self, pos):
        return pos[..., 0]

    def embed(self, pos):
        return self.kind(pos[..., 3])

    def bias(self, pos_q, pos_k):
        dcol = pos_k[:, None, :, 0] - pos_q[:, :, None, 0]  # (B, Tq, Tk)
        drow = pos_k[:, None, :, 1] - pos_q[:, :, None, 1]
        kind = pos_q[..., 3][:, :, None].expand_as(drow)
        lo, (c0, c1) = self.row_window[0], self.window
        in_rows = (drow >= lo) & (drow <= 0)
        slot = self.slot[kind, (drow - lo).clamp(0, -lo)]
        inside = in_rows & (slot >= 0) & (dcol >= c0) & (dcol <= c1)
        inside &= self.allowed[kind, (drow - lo).clamp(0, -lo), (dcol - c0).clamp(0, c1 - c0)]
        bias = self.table[:, kind, slot.clamp(min=0), (dcol - c0).clamp(0, c1 - c0)]  # (H, B, Tq, Tk)
        return bias.transpose(0, 1).masked_fill(~inside[:, None], float("-inf"))


@SCHEMES.register(
    "page-div",
    "a long-division page: five kinds of line per block, each of the variant its opening mark names, masked outside",
)
class PageDiv(PageProgram):
    # read from the task's declaration, the one place the page's kinds are written
    QUESTION_ROWS = len(DIVISION.question)
    BLOCK = len(DIVISION.lines)
    READS = DIVISION.reads


@SCHEMES.register(
    "page-gcd",
    "an Euclid page: five kinds of line per block (divisor, remainder, borrows, flags, difference), each of the "
    "variant its opening mark names, masked outside",
)
class PageGcd(PageProgram):
    QUESTION_ROWS = len(EUCLID.question)
    BLOCK = len(EUCLID.lines)
    READS = EUCLID.reads


@SCHEMES.register(
    "page-modmul",
    "a modular-multiplication page: five kinds of line per block, of 9 variants (start; shift and add, add, shift, "
    "next digit; then long division's four), each of the variant its opening mark names, masked outside",
)
class PageModmul(PageProgram):
    QUESTION_ROWS = len(MODMUL.question)
    BLOCK = len(MODMUL.lines)
    READS = MODMUL.reads
