"""The interface every positional scheme implements.

A scheme sees token ids, the tokenizer's digit ids and tensors — never a task or a format. Hooks, all optional:

- ``positions(idx, generator)``: (B, T) integer position ids for a whole sequence, or None. Must be causal
  (a token's id depends only on tokens before it) so decoding can compute ids for the growing sequence.
- ``embed(pos)``: (B, T, C) vector added to the token embeddings.
- ``rotate(t, pos)``: transform queries or keys (B, H, T, D) at the given positions (rotary schemes).
- ``bias(pos_q, pos_k)``: (B or 1, H, Tq, Tk) additive attention bias.

``table_size`` is one more than the largest position id the scheme can represent (None: unbounded); `fits`
checks a batch of ids against it so callers can refuse inputs the model cannot represent.

A scheme also *declares* what its hooks depend on, so that other code (the verifier, the windowed decoder, config
checks) can ask instead of guess:

- ``depends_on``: a subset of ``DEPENDENCIES`` — what of a token's place the scheme lets the model see;
- ``window``: ``(lo, hi)`` when a query may attend only to keys whose column (coupled digit id) differs from its
  own by lo..hi, keys outside being masked to -inf; None when every earlier key is visible;
- ``row_window``: likewise ``(lo, hi)`` over row offsets, for schemes that lay a problem out as a page of lines
  (posenc/page.py), or None; ``coordinates(idx)`` then gives each token's (row, column) as the window sees them;
- ``settings``: the ``model.*`` keys it reads, which ``model.posenc.<name>`` may set for it alone;
- ``needs_column_layout``: the ids assume numbers written as plain runs of digits (no index hints, digit-group
  commas or spaces), which formats that break the runs would silently corrupt.
"""

from __future__ import annotations

import torch
from torch import nn

from numerate.registry import Registry

SCHEMES: Registry = Registry("positional scheme")


DEPENDENCIES = {
    "sequence-index": "a token's place in the sequence (absolute)",
    "sequence-offset": "the distance in the sequence between query and key",
    "column": "a digit's coupled id (its significance) itself, through a learned table",
    "column-offset": "only the difference between the coupled ids of query and key",
    "row": "which number of the problem a token belongs to",
    "row-offset": "only the difference between the rows (lines of a page) of query and key",
    "row-parity": "whether a token's row on a page is a question row or a line of work (queries are all on lines "
    "of work, so this is the row offset's parity)",
    "row-kind": "a token's row modulo a page's cycle of line kinds (posenc/page_grid.py): shifting the page by whole "
    "cycles keeps it",
}
# What a scheme may depend on and still give the same computation to the same neighbourhood at any length.
SHIFT_INVARIANT = frozenset({"column-offset", "row", "row-offset", "row-parity", "row-kind"})


class PositionalScheme(nn.Module):
    # The model.* keys this scheme reads: in a combination, model.posenc.<name> may set them for this part alone.
    settings: tuple[str, ...] = ("pos_random_max",)
    table_size: int | None = None
    depends_on: frozenset = frozenset()
    window: tuple[int, int] | None = None
    row_window: tuple[int, int] | None = None
    needs_column_layout: bool = False
    # A page of lines of kinds: the scheme declares `period`, `kind_vectors`, `row_offsets`, `cell_bias`, `layout`
    # and `line_step`, which is all the line decoder (eval/page_decode.py) reads.
    page_lines: bool = False
    needs_marks: bool = False  # the constructor also takes the ids of prompt-ending marks (answers follow them)

    def __init__(self, cfg, digit_ids: list[int]):
        super().__init__()
        self.register_buffer("digit_ids", torch.tensor(digit_ids, dtype=torch.long), persistent=False)
        self.random_max = cfg.pos_random_max

    def sequence_positions(self, idx, generator=None):
        """Sequence indices, randomized while training if the config asks for it."""
        return sequence_index(idx, self.random_max if self.training else 0, generator)

    def positions(self, idx: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor | None:
        return None

    def embed(self, pos: torch.Tensor) -> torch.Tensor | None:
        return None

    def rotate(self, t: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return t

    def bias(self, pos_q: torch.Tensor, pos_k: torch.Tensor) -> torch.Tensor | None:
        return None

    def fits(self, pos: torch.Tensor | None) -> bool:
        return pos is None or self.table_size is None or int(pos.max()) < self.table_size

    # Windowed schemes also implement these two, for the linear-time decoder (eval/windowed.py):

    def columns(self, pos: torch.Tensor) -> torch.Tensor:
        """(B, T) column ids that `window` refers to, from position ids."""
        raise NotImplementedError

    def next_positions(self, last_pos: torch.Tensor, last_tok: torch.Tensor, new_tok: torch.Tensor) -> torch.Tensor:
        """Position ids (B, ...) of a token appended after one with ids `last_pos` and token `last_tok`: the same
        as `positions` of the whole sequence would give it (eval mode), in constant time."""
        raise NotImplementedError


def sequence_index(idx: torch.Tensor, random_max: int = 0, generator: torch.Generator | None = None) -> torch.Tensor:
    """0, 1, 2, ... along the sequence. (B, T)

    With random_max > 0 (randomized positions, Ruoss et al. 2023), each row gets instead a sorted random subset
    of [0, random_max), so a model trained on short sequences has seen the large indices of long ones.
    """
    B, T = idx.shape
    if random_max <= 0:
        return torch.arange(T, device=idx.device).expand(B, T)
    if random_max < T:
        raise ValueError(f"randomized positions need pos_random_max >= sequence length {T}")
    scores = torch.rand(B, random_max, generator=generator)
    return scores.topk(T, dim=1).indices.sort(dim=1).values.to(idx.device)


def digit_run_index(idx: torch.Tensor, digit_ids: torch.Tensor) -> torch.Tensor:
    """1-based index of each digit within its maximal run of digits; 0 for every other token. (B, T)

    For ``321+54=`` this is ``1 2 3 0 1 2 0``. With reversed numbers the index is the digit's significance + 1,
    so digits of equal significance in both operands and the answer share an index.
    """
    B, T = idx.shape
    is_digit = torch.isin(idx, digit_ids)
    t = torch.arange(T, device=idx.device).expand(B, T)
    last_break = torch.where(is_digit, torch.full_like(t, -1), t).cummax(dim=1).values
    return torch.where(is_digit, t - last_break, torch.zeros_like(t))


def random_offset(high: int, generator: torch.Generator | None) -> int:
    """One offset in [0, high] for the whole batch."""
    if high <= 0:
        return 0
    return int(torch.randint(0, high + 1, (1,), generator=generator).item())


MAX_ROWS = 16  # rows beyond this share the last embedding


def row_index(idx: torch.Tensor, digit_ids: torch.Tensor, pad_id: int = 0, rows: int = MAX_ROWS) -> torch.Tensor:
    """Separator (non-digit, non-pad) tokens strictly before each token: its row. (B, T)

    For ``321+54=573`` this is ``0 0 0 0 1 1 1 2 2 2``.
    """
    sep = (~torch.isin(idx, digit_ids) & (idx != pad_id)).long()
    return (sep.cumsum(dim=1) - sep).clamp(max=rows - 1)


class WithRows:
    """Mixin: a second coordinate per token, its row (which number it belongs to), with a learned table.

    Put it before a scheme with one id per token; positions become (B, T, 2): [..., 0] that scheme's id,
    [..., 1] the row.
    """

    def __init__(self, cfg, digit_ids):
        super().__init__(cfg, digit_ids)
        self.rows = nn.Embedding(cfg.pos_rows, cfg.n_embd)

    def positions(self, idx, generator=None):
        rows = row_index(idx, self.digit_ids, rows=self.rows.num_embeddings)
        return torch.stack((super().positions(idx, generator), rows), dim=-1)

    def columns(self, pos):
        return super().columns(pos[..., 0])

    def next_positions(self, last_pos, last_tok, new_tok):
        col = super().next_positions(last_pos[..., 0], last_tok, new_tok)
        sep = ~torch.isin(last_tok, self.digit_ids) & (last_tok != 0)  # pad is id 0, as in row_index
        return torch.stack((col, (last_pos[..., 1] + sep.long()).clamp(max=self.rows.num_embeddings - 1)), dim=-1)
