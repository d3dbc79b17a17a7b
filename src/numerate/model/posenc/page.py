"""A page: every token has a line (row) and a column, and attends only to a fixed 2-D neighbourhood of both.

A sum of many numbers done by hand is a page: the running total, under it the next operand, under that the new
running total. A transformer reads one sequence, so the question (every operand) comes first and the model then
writes the lines of work, but each token is given the row it would have on paper:

- question row t (operand t and the mark that closes it) is row 2t - 1;
- the line of work that adds operand t (the mark that opens it, its digits and the mark that closes it) is row 2t;

so "the line above" is always two rows up and "the operand this line adds" one row up, whatever the number of
operands — the row offsets are coupled the way position coupling couples columns. The column is the coupled digit
id: significance + 1 for digits of reversed numbers, one more than the top digit for the mark that closes a
number, 0 for the mark that opens a line. Which mark is which needs no table: after the prompt's mark, a mark that
follows a digit closes its line and one that follows a mark opens the next (the prompt's mark opens the first).

A query attends only to earlier keys whose row offset is in `row_window` (-2..0) and whose column offset is in
`window` (0..+1 by default), with one learned bias per head for each (row offset, column offset); every other key
is masked out; a learned vector says whether a token is on a question row or a line of work. Nothing the
scheme gives the model grows with the number of lines or digits, which is what lets
`numerate verify` prove a page model (verify/page.py). Because values carry no column, a head cannot tell which
cell it read; the closing marks let it see that a number has ended, and the row kind that what it fell back on
is the other number's, not a digit of the one it looks for.
"""

from __future__ import annotations

import torch
from torch import nn

from numerate.model.posenc.base import SCHEMES, PositionalScheme, digit_run_index
from numerate.model.posenc.page_grid import CELL, CLOSE, OPEN


@SCHEMES.register(
    "page-2d",
    "a page of lines: row offsets -2..0 (the line above, the operand, this line) x column window, masked outside",
)
class Page2D(PositionalScheme):
    settings = ("col_window",)
    depends_on = frozenset({"column-offset", "row-offset", "row-parity"})
    needs_column_layout = True
    needs_marks = True
    row_window = (-2, 0)
    # what the line-at-a-time page decoder (eval/page_decode.py) reads, in PageCycle's terms: two row kinds (a
    # question row or a line of work), every kind reading every row offset of the window, a line every two rows
    period = 2
    line_step = 2
    page_lines = True

    def __init__(self, cfg, digit_ids, mark_ids):
        super().__init__(cfg, digit_ids)
        self.register_buffer("mark_ids", torch.tensor(list(mark_ids), dtype=torch.long), persistent=False)
        self.window = tuple(cfg.col_window) if cfg.col_window else (0, 1)
        rows = self.row_window[1] - self.row_window[0] + 1
        self.table = nn.Parameter(torch.zeros(cfg.n_head, rows, self.window[1] - self.window[0] + 1))
        # Whether a token is on a question row (odd) or a line of work (even). Every query is on a line of work,
        # so this is the parity of the row offset: shifting a page by whole lines keeps it. It is what lets a
        # head that finds its cell empty tell the operand's tokens it falls back on from the line above's.
        self.parity = nn.Embedding(2, cfg.n_embd)

    def positions(self, idx, generator=None):
        """(B, T, 2): [..., 0] the column, [..., 1] the row on the page."""
        return torch.stack(self.coordinates(idx)[::-1], dim=-1)

    def coordinates(self, idx):
        """(rows, columns), each (B, T)."""
        is_digit = torch.isin(idx, self.digit_ids)
        mark = ~is_digit & (idx != 0)  # pad is id 0
        after_digit = torch.zeros_like(is_digit)
        after_digit[:, 1:] = is_digit[:, :-1]
        prompt_mark = torch.isin(idx, self.mark_ids)
        working = prompt_mark.long().cumsum(dim=1) > 0  # the prompt's mark and everything after it
        opens = mark & working & (~after_digit | prompt_mark)
        closed_before = (mark & ~working).long().cumsum(dim=1) - (mark & ~working).long()
        question = 2 * closed_before + 1
        work = 2 * (opens & working).long().cumsum(dim=1)
        run = digit_run_index(idx, self.digit_ids)
        before = torch.zeros_like(run)
        before[:, 1:] = run[:, :-1]
        cols = torch.where(is_digit, run, torch.where(mark & after_digit & ~prompt_mark, before + 1, 0))
        return torch.where(working, work, question), cols

    def layout(self, idx):
        """(rows, columns, what each token is: CELL, OPEN or CLOSE), each (B, T), as PageCycle.layout."""
        rows, cols = self.coordinates(idx)
        is_digit = torch.isin(idx, self.digit_ids)
        after_digit = torch.zeros_like(is_digit)
        after_digit[:, 1:] = is_digit[:, :-1]
        closes = ~is_digit & (idx != 0) & after_digit & ~torch.isin(idx, self.mark_ids)
        what = torch.where(is_digit, CELL, torch.where(closes, CLOSE, OPEN))
        return rows, cols, what.long()

    def row_offsets(self, kind: int) -> tuple[int, ...]:
        return tuple(range(self.row_window[0], self.row_window[1] + 1))

    def kind_vectors(self, kinds: torch.Tensor) -> torch.Tensor:
        return self.parity(kinds)

    def cell_bias(self, kind: int, row_offset: int, col_offset: int) -> torch.Tensor:
        return self.table[:, row_offset - self.row_window[0], col_offset - self.window[0]]

    def columns(self, pos):
        return pos[..., 0]

    def embed(self, pos):
        return self.parity(pos[..., 1] % 2)

    def next_positions(self, last_pos, last_tok, new_tok):
        is_digit, was_digit = torch.isin(new_tok, self.digit_ids), torch.isin(last_tok, self.digit_ids)
        col, row = last_pos[..., 0], last_pos[..., 1]
        is_mark = torch.isin(new_tok, self.mark_ids)
        working = (row % 2 == 0) | is_mark  # work rows are even, question rows odd
        closes = ~is_digit & was_digit & ~is_mark
        new_col = torch.where(is_digit, torch.where(was_digit, col + 1, torch.ones_like(col)), 0)
        new_col = torch.where(closes, col + 1, new_col)
        # a new row: in the question after a closing mark; in the work at an opening mark
        question_row = torch.where(~was_digit & (row % 2 == 1), row + 2, row)
        work_row = torch.where(is_mark, torch.full_like(row, 2), torch.where(~is_digit & ~was_digit, row + 2, row))
        new_row = torch.where(working, work_row, question_row)
        return torch.stack((new_col, new_row), dim=-1)

    def bias(self, pos_q, pos_k):
        dcol = pos_k[:, None, :, 0] - pos_q[:, :, None, 0]  # (B, Tq, Tk)
        drow = pos_k[:, None, :, 1] - pos_q[:, :, None, 1]
        (r0, r1), (c0, c1) = self.row_window, self.window
        inside = (drow >= r0) & (drow <= r1) & (dcol >= c0) & (dcol <= c1)
        bias = self.table[:, (drow - r0).clamp(0, r1 - r0), (dcol - c0).clamp(0, c1 - c0)]  # (H, B, Tq, Tk)
        return bias.transpose(0, 1).masked_fill(~inside[:, None], float("-inf"))
