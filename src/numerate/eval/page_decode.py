"""Greedy decoding of a one-layer page model a line at a time, in time linear in the page.

Both page schemes qualify: the sum page's (posenc/page.py: two row kinds, a line of work every two rows) and a
cycle of line kinds (posenc/page_grid.py, the multiplication page). Each declares what the decoder reads: its row
kinds (`period`, `kind_vectors`), the rows a kind reads (`row_offsets`), the bias of each cell (`cell_bias`), where
a prompt's tokens sit (`layout`) and the rows from one line of work to the next (`line_step`).

A query of such a model sees only its own token and the tokens in columns c and c + 1 of the few rows above that
its line's kind reads, so once those rows are written, the token after column c is a function of the token in
column c alone: t[c + 1] = F_c(t[c]). A line is then decoded by fixed-point (Jacobi) iteration: guess the whole
line, evaluate every query of it in one batched pass, replace each token by the prediction of the query before
it, and repeat until nothing changes. Each pass makes at least one more token right (the first wrong one's query
sees only right tokens), and at the fixed point every token is the model's greedy choice given the tokens before
it: the same page the token-by-token decoder writes. A pass costs one gathered attention over a few keys per
query, so a line of L tokens costs O(L) per pass and a page a few passes per line.

A token's embedding, query, key and value depend on its id and its row's kind alone (one layer, no rotation),
so they are tabulated once per (kind, token) and gathered by column.

The same locality makes F_c depend on column c only through its *context*: the tokens in columns c and c + 1 of
the rows its line's kind reads (or their absence). Queries with the same kind, context and token compute the
same function of the same numbers, so the decoder evaluates the model once per (kind, context) for every token
of the vocabulary, keeps the table, and reads every later column with that context off it (`_cached_line`). A
long page repeats few contexts (a product's lines are built from a handful of digit pairs), so most lines cost
no model evaluation at all; the line is then read off by the same chain t[c + 1] = F_c(t[c]). With
`cache_contexts=False` every line is decoded by Jacobi passes instead; both write the token-by-token decoder's
page (tests/test_page_mul.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from numerate.model.posenc.page_grid import CLOSE, OPEN

JACOBI_PASSES = 4  # then the transition table (one pass per vocabulary token) finishes the line


def supports_page_decode(model) -> bool:
    """A one-layer model on a page scheme (the sum page's or a cycle of line kinds) with the column window 0..+1:
    what `_predict` computes. Anything else (more layers, a neural memory) takes the general decoders."""
    depth = model.cfg.n_layer * (model.cfg.test_recurrences or model.cfg.recurrences)
    scheme = model.scheme
    return scheme.page_lines and scheme.window[0] == 0 and depth == 1 and not getattr(model, "reads_all_past", False)


class Unending(list):
    """The tokens of a line that provably never ends (column 0 first): past the rows above, every column has the
    same (empty) context, so the line's next token is one fixed function of the token before; a chain of more
    steps than the vocabulary has tokens has entered a cycle, and if no step of it closed the line, none will."""


class _Row:
    __slots__ = ("ids", "c0", "kind", "np_ids")

    def __init__(self, ids: torch.Tensor, c0: int, kind: int):
        self.ids, self.c0, self.kind = ids, c0, kind
        self.np_ids = ids.cpu().numpy()


class PageDecoder:
    """Decode pages of one model, one prompt at a time (`decode`)."""

    def __init__(self, model, eos_id: int, cache_contexts: bool = True):
        self.model, self.eos_id = model.eval(), eos_id
        self.cache_contexts = cache_contexts
        self.tables: dict[tuple[int, bytes, int], int] = {}  # (kind, context, token) -> the next token
        self.vocab = model.wte.weight.shape[0]
        self.digits = frozenset(model.scheme.digit_ids.tolist())
        self.scheme = model.scheme
        self.block = model.blocks[0]
        cfg = model.cfg
        self.H, self.C = cfg.n_head, cfg.n_embd
        self.D = self.C // self.H
        # a token's embedding, query, key and value depend on its id and its row's kind alone (one layer, no
        # rotation): one table each, (kind, token, ...), computed once
        self.n_kinds = getattr(self.scheme, "n_kinds", self.scheme.period)
        self.dcols = tuple(range(self.scheme.window[0], self.scheme.window[1] + 1))
        kinds = torch.arange(self.n_kinds, device=model.wte.weight.device)
        tokens = torch.arange(self.vocab, device=kinds.device)
        x = model.wte(tokens)[None] + self.scheme.kind_vectors(kinds)[:, None]  # (kinds, V, C)
        h = self.block.ln1(x)
        q, k, v = self.block.attn.qkv(h).split(self.C, dim=-1)
        shape = (self.n_kinds, self.vocab, self.H, self.D)
        self.x, self.q, self.k, self.v = x, q.reshape(shape), k.reshape(shape), v.reshape(shape)

    def _row(self, ids: torch.Tensor, c0: int, kind: int) -> _Row:
        return _Row(ids, c0, kind)

    def _cols(self, kind: int, off: int) -> tuple[int, ...]:
        """The column offsets a query of this kind reads in the row at this offset (every one of the window's,
        unless the scheme names them per kind)."""
        reads = getattr(self.scheme, "reads", None)
        return self.dcols if reads is None else reads(kind, off)

    def _kind(self, row: int, opener: int | None) -> int:
        """A row's kind: its row number's (a cycle of kinds) or, where the scheme reads it from the mark that opens
        the row (posenc/page_program.py), that mark's (None: a question row)."""
        line_kind = getattr(self.scheme, "line_kind", None)
        return row % self.scheme.period if line_kind is None else line_kind(row, opener)

    def _predict(self, rows: dict[int, _Row], row: int, line: torch.Tensor, cols: torch.Tensor | None = None):
        """The greedy next token after each token of `line` (row `row`, column 0 first), given the rows above;
        with `cols`, token i of `line` is read as standing in column cols[i] instead of column i."""
        scheme, L = self.scheme, len(line)
        kind = self.kinds[row]
        x = self.x[kind, line]  # (L, C)
        q = self.q[kind, line]  # (L, H, D)
        cols = torch.arange(L, device=line.device) if cols is None else cols
        keys, values, biases, valid = [self.k[kind, line]], [self.v[kind, line]], [], []
        biases.append(scheme.cell_bias(kind, 0, 0)[None, :].expand(L, self.H))  # the query's own token
        valid.append(torch.ones(L, dtype=torch.bool, device=line.device))
        for off in scheme.row_offsets(kind):
            above = rows.get(row + off) if off != 0 else None
            if above is None:
                continue
            for dc in self._cols(kind, off):
                i = cols + dc - above.c0
                ok = (i >= 0) & (i < len(above.ids))
                ids = above.ids[i.clamp(0, len(above.ids) - 1)]
                keys.append(self.k[above.kind, ids])
                values.append(self.v[above.kind, ids])
                biases.append(scheme.cell_bias(kind, off, dc)[None, :].expand(L, self.H))
                valid.append(ok)
        k = torch.stack(keys, dim=1)  # (L, K, H, D)
        v = torch.stack(values, dim=1)
        bias = torch.stack(biases, dim=1)  # (L, K, H)
        ok = torch.stack(valid, dim=1)  # (L, K)
        scores = torch.einsum("lhd,lkhd->lkh", q, k) / math.sqrt(self.D) + bias
        scores = scores.masked_fill(~ok[:, :, None], float("-inf"))
        y = torch.einsum("lkh,lkhd->lhd", F.softmax(scores, dim=1), v)
        x = x + self.block.attn.proj(y.reshape(L, self.C))
        x = x + self.block.mlp(self.block.ln2(x))
        return self.model.head(self.model.ln_f(x)).argmax(-1)

    @torch.no_grad()
    def decode(self, prompt: torch.Tensor, max_new: int, progress: bool = False) -> list[int] | None:
        """The tokens the model writes after `prompt` (1-D ids ending in the prompt's mark), up to <eos>; with
        `progress`, a bar of the tokens written against the most the page may hold.

        A page that does not end within `max_new` tokens comes back without <eos>: cut at the budget, or, where a
        line provably never ends (`Unending`), cut where that became certain, a prefix of what greedy decoding
        would write until the budget runs out (so an endless page costs a line, not the budget twice).

        None when the model leaves the page's format: a line with no end within the budget, or tokens the
        scheme's own layout places elsewhere than this decoder read them (an empty line opened right after
        another, on the sum page). Plain greedy decoding, which places every token itself, is then the way to
        write that page (the next decoder of eval/decoders.py's plan takes the row)."""
        from tqdm.auto import tqdm

        with tqdm(total=max_new, disable=not progress, unit="tok", unit_scale=True, desc="page") as bar:
            found = self._decode(prompt, max_new, bar)
            if found is None or not self._sits_where_assumed(prompt, *found):
                return None
            out = found[0]
            bar.total = bar.n = len(out)  # the page ended: its length, not the bound, is the whole
            bar.refresh()
        return out

    def _sits_where_assumed(self, prompt: torch.Tensor, out: list[int], lines: list[tuple[int, int, int]]) -> bool:
        """Whether the scheme's own layout of prompt + out puts every written token (but <eos>) in the row and
        column the decoder read it at: `lines` holds (row, first column, tokens) for each run written."""
        if not out:
            return True
        rows, cols = self.scheme.coordinates(torch.cat([prompt, prompt.new_tensor(out)])[None])
        rows, cols = rows[0, len(prompt) :].cpu().numpy(), cols[0, len(prompt) :].cpu().numpy()
        counts = np.array([n for _, _, n in lines])
        want_rows = np.repeat([r for r, _, _ in lines], counts)[: len(out)]
        starts = np.repeat(np.cumsum(counts) - counts, counts)[: len(out)]
        want_cols = np.repeat([c for _, c, _ in lines], counts)[: len(out)] + np.arange(len(out)) - starts
        keep = np.asarray(out) != self.eos_id
        return bool(np.array_equal(rows[keep], want_rows[keep]) and np.array_equal(cols[keep], want_cols[keep]))

    def _decode(self, prompt: torch.Tensor, max_new: int, bar):
        """(the tokens written, (row, first column, count) of each run of them), or None when a line has no end
        within the budget."""
        scheme = self.scheme
        rows_of, cols_of = scheme.coordinates(prompt[None])
        rows_of, cols_of = rows_of[0].tolist(), cols_of[0].tolist()
        row = rows_of[-1]  # the prompt's last token opens the first line of work; every other row is the question's
        rows: dict[int, _Row] = {}
        self.kinds = {}  # row -> its kind, known once the row is opened
        for r in sorted(set(rows_of) - {row}):
            idx = [i for i, x in enumerate(rows_of) if x == r]
            self.kinds[r] = self._kind(r, None)
            rows[r] = self._row(prompt[idx], cols_of[idx[0]], self.kinds[r])
        out: list[int] = []
        lines: list[tuple[int, int, int]] = []
        opener = prompt[-1:]
        lo, step = scheme.row_window[0], scheme.line_step
        while len(out) < max_new:
            self.kinds[row] = self._kind(row, int(opener[0]))
            above = [rows[row + o] for o in scheme.row_offsets(self.kinds[row]) if o and row + o in rows]
            width = max([r.c0 + len(r.ids) for r in above] or [1]) + 2
            found = self._line(rows, row, opener, width, max_new + 1)
            if found is None:  # no end within the budget: a model far off the format
                return None
            if isinstance(found, Unending):  # greedy decoding would write this line until the budget runs out
                out.extend(found[1 : max_new - len(out) + 1])
                lines.append((row, 1, len(out) - sum(n for _, _, n in lines)))
                return out[:max_new], lines
            line, after = found
            end = len(line) - 1
            written = line[1 : end + 1].tolist()
            out.extend(written)
            lines.append((row, 1, len(written)))
            bar.update(len(written) + 1)
            if line[end] == self.eos_id or len(out) >= max_new:
                return out[:max_new], lines
            rows[row] = self._row(line[: end + 1], 0, self.kinds[row])
            for r in [r for r in rows if r < row + step + lo]:  # no later line reads this far up
                del rows[r]
            out.append(after)  # the token after the closing mark opens the next line
            lines.append((row + step, 0, 1))
            if after == self.eos_id:
                return out[:max_new], lines
            opener = prompt.new_tensor([after])
            row += step
        return out[:max_new], lines

    def _line(self, rows, row: int, opener: torch.Tensor, width: int, limit: int):
        """(the line from its opening mark to its end, the token after the end), or None past `limit` tokens.

        First a few Jacobi passes; a line that has not settled by then (a chain, such as a digit repeated
        along the line, moves one column per pass) is finished from the table of t -> F_c(t), read along the
        line from its opening mark: one pass for each token t the line meets (a repeated digit meets three or
        four)."""
        if self.cache_contexts:
            return self._cached_line(rows, row, opener, width, limit)
        line = torch.cat([opener, opener.new_zeros(width)])
        for _ in range(JACOBI_PASSES):
            pred = self._predict(rows, row, line)
            new = torch.cat([line[:1], pred[:-1]])
            end = self._ends(new)
            if end is not None and torch.equal(new[: end + 1], line[: end + 1]):
                return line[: end + 1], int(pred[end])
            line = new
        digit = set(self.scheme.digit_ids.tolist())
        while True:
            L = len(line)
            table: dict[int, list[int]] = {}  # token t -> F_c(t) for every column c, one pass per token met

            def step(t: int, c: int) -> int:
                if t not in table:
                    table[t] = self._predict(rows, row, torch.full_like(line, t)).tolist()
                return table[t][c]

            toks, was_digit = [int(line[0])], False
            for c in range(L - 1):
                t = step(toks[-1], c)
                toks.append(t)
                if t == self.eos_id or (was_digit and t not in digit and t != 0):
                    return line.new_tensor(toks), step(t, c + 1) if c + 1 < L else self._after(rows, row, toks)
                was_digit = t in digit
            if L > limit:
                return None
            line = torch.cat([line.new_tensor(toks), line.new_zeros(L)])

    def _contexts(self, rows, row: int, L: int) -> np.ndarray:
        """(L, slots) int: for each column, the token in columns c and c + 1 of every row the line's kind reads,
        -1 where there is none (what `_predict` masks)."""
        cols = np.arange(L)
        parts = []
        for off in self.scheme.row_offsets(self.kinds[row]):
            if off == 0:
                continue
            above = rows.get(row + off)
            for dc in self._cols(self.kinds[row], off):
                if above is None:
                    parts.append(np.full(L, -1))
                    continue
                i = cols + dc - above.c0
                ok = (i >= 0) & (i < len(above.np_ids))
                parts.append(np.where(ok, above.np_ids[np.clip(i, 0, len(above.np_ids) - 1)], -1))
        return np.stack(parts, axis=1).astype(np.int16) if parts else np.zeros((L, 0), np.int16)

    def _cached_line(self, rows, row: int, opener: torch.Tensor, width: int, limit: int):
        """`_line` read off a table of (kind, context, token) -> next token, filled only where the chain needs it.

        Walk the chain t[c + 1] = F_c(t[c]) while the table has the entry. At the first column it lacks, guess
        the rest of the line (first the last token repeated, as a repeated digit is; then each pass's own
        predictions, as the Jacobi passes do), evaluate every entry the guess needs that the table lacks in one
        batched pass, and walk on: each pass adds at least the entry the walk stopped at, so the walk advances.
        A line still unfinished after a few passes (a chain the guesses miss) takes every token of the
        vocabulary at each of its remaining contexts in one last pass."""
        kind = self.kinds[row]
        L = width + 2  # past the rows above every column has the empty context, which column L - 1 shows
        uniq, inverse = np.unique(self._contexts(rows, row, L), axis=0, return_inverse=True)
        names = [u.tobytes() for u in uniq]
        ctx = [names[i] for i in inverse.reshape(-1).tolist()]
        table, digit, eos = self.tables, self.digits, self.eos_id
        toks, was_digit, guess, passes = [int(opener[0])], False, None, 0
        c = 0
        while True:
            while True:  # the walk, as far as the table reaches
                nxt = table.get((kind, ctx[min(c, L - 1)], toks[-1]))
                if nxt is None:
                    break
                toks.append(nxt)
                c += 1
                if nxt == eos or (was_digit and nxt not in digit and nxt != 0):
                    after = table.get((kind, ctx[min(c, L - 1)], nxt))
                    if after is None:
                        self._fill(rows, row, kind, ctx, [(min(c, L - 1), nxt)])
                        after = table[(kind, ctx[min(c, L - 1)], nxt)]
                    return opener.new_tensor(toks), after
                was_digit = nxt in digit
                if c > L + self.vocab + 1:  # on the empty context for more steps than there are tokens: a cycle
                    return Unending(toks)
                if c > limit:
                    return None
            start = min(c, L - 1)
            if guess is None:
                guess = [toks[-1]] * L
            guess[start] = toks[-1]
            passes += 1
            if passes > JACOBI_PASSES:  # every token at every remaining context: the walk cannot stop again
                need = [(j, t) for j in range(start, L) for t in range(self.vocab)]
            else:
                need = [(j, guess[j]) for j in range(start, L)]
            self._fill(rows, row, kind, ctx, need)
            if passes <= JACOBI_PASSES:  # the next guess: each token as the query before it predicts it
                old = list(guess)
                for j in range(start, L - 1):
                    guess[j + 1] = table[(kind, ctx[j], old[j])]

    def _fill(self, rows, row: int, kind: int, ctx: list[bytes], need: list[tuple[int, int]]) -> None:
        """Evaluate the model at (column, token) pairs whose (context, token) entry the table lacks, one per
        entry, in one batched pass."""
        todo: dict[tuple[int, bytes, int], int] = {}
        for j, t in need:
            key = (kind, ctx[j], t)
            if key not in self.tables and key not in todo:
                todo[key] = j
        if not todo:
            return
        device = self.model.wte.weight.device
        cols = torch.tensor(list(todo.values()), device=device)
        tokens = torch.tensor([key[2] for key in todo], device=device)
        for key, p in zip(todo, self._predict(rows, row, tokens, cols=cols).tolist()):
            self.tables[key] = p

    def _after(self, rows, row: int, toks: list[int]) -> int:
        return int(self._predict(rows, row, torch.tensor(toks))[-1])

    def _ends(self, line: torch.Tensor) -> int | None:
        """Index of the token that ends the line: its closing mark (a non-digit after a digit) or <eos>."""
        digit = torch.isin(line, self.scheme.digit_ids)
        other = ~digit & (line != 0)
        closes = other.clone()
        closes[0] = False
        closes[1:] &= digit[:-1]
        stop = closes | (line == self.eos_id)
        stop[0] = False
        hits = torch.nonzero(stop).flatten()
        return int(hits[0]) if len(hits) else None


def is_page_prompt(scheme, ids: torch.Tensor) -> bool:
    """The prompt ends in the mark that opens the first line of work, right after a line of the question."""
    _, cols, what = scheme.layout(ids[None])
    return len(ids) >= 2 and int(what[0, -1]) == OPEN and int(cols[0, -1]) == 0 and int(what[0, -2]) == CLOSE


@torch.no_grad()
def page_rows(model, prompts: torch.Tensor, max_new: int, eos_id: int, pad_id: int = 0, progress: bool = False):
    """Each prompt row's page (left pads dropped): its tokens up to <eos>, or cut without one where the page does
    not end (`PageDecoder.decode`); None for a row that is not the question of a page or that the model writes
    off the page's format (a decoder after this one writes it)."""
    decoder = PageDecoder(model, eos_id)
    out = []
    for row in prompts:
        ids = row[row != pad_id]
        out.append(decoder.decode(ids, max_new, progress=progress) if is_page_prompt(model.scheme, ids) else None)
    return out
