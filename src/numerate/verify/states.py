"""The token states of many fields at once, computing each distinct state only once.

After t attention steps a token's state depends only on the tokens that reach it in t hops (its own smaller
field). Across the cases of one class most of those smaller fields repeat: in the addition field
{a_j, a_j+1, a_j+2, b_j, b_j+1, s_j} the first-layer state of a_j takes 10 values and that of b_j 1,000, while
only the query's last step differs in every case. So each step computes each token's distinct states once, and
a state's keys and values are gathered from the distinct states of the step before.

`propagate` walks that structure with an *arithmetic*: `Float` evaluates the model in its own dtype (the float32
check, `field_logits`), and enclosure.Enclosure carries every state as a float64 midpoint and a rigorous radius
(the rounding bound). Both compute the same real-valued function as `Transformer.forward` on the field (tests
compare them on every case of several classes and architectures).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _unique_rows(x: torch.Tensor, base: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(first index of each distinct row, inverse (N,) mapping each row to its distinct row); entries < base."""
    if x.shape[1] * math.log2(max(base, 2)) < 62:  # each row as one integer: a 1-D unique is far faster
        codes = (x * base ** torch.arange(x.shape[1], dtype=torch.long)).sum(1)
        _, inverse = torch.unique(codes, return_inverse=True)
    else:
        _, inverse = torch.unique(x, dim=0, return_inverse=True)
    n = int(inverse.max()) + 1 if len(inverse) else 0
    first = torch.full((n,), len(x), dtype=torch.long).scatter_reduce(0, inverse, torch.arange(len(x)), reduce="amin")
    return first, inverse


class _Table:
    """Distinct states of one slot after some step: values (U, C) and, per case, which row is its state."""

    def __init__(self, values, inverse: torch.Tensor):
        self.values, self.inverse = values, inverse


class Float:
    """Plain evaluation in the model's dtype: the arithmetic of the float32 check."""

    def embed(self, model, ids, extra):
        e = model.wte.weight[ids]
        return e + extra if extra is not None else e

    def take(self, x, rows):
        return x[rows]

    def stack(self, xs):
        return torch.stack(xs, dim=1)

    def add(self, a, b):
        return a + b

    def layer_norm(self, x, ln):
        return ln(x)

    def linear(self, x, lin):
        return lin(x)

    def split(self, x, n: int):
        return x.split(n, dim=-1)

    def gelu(self, x):
        return F.gelu(x)

    def attention(self, q, ks, vs, bias, n_head: int):
        """q (U, C), ks and vs (U, K, C), bias (H, K): one query's attention over its K visible keys."""
        U, K, C = ks.shape
        D = C // n_head
        qh = q.view(U, n_head, 1, D)
        kh = ks.view(U, K, n_head, D).transpose(1, 2)  # (U, H, K, D)
        vh = vs.view(U, K, n_head, D).transpose(1, 2)
        scores = (qh @ kh.transpose(-1, -2))[:, :, 0] / math.sqrt(D) + bias  # (U, H, K)
        return (F.softmax(scores, dim=-1)[:, :, None] @ vh)[:, :, 0].reshape(U, C)

    def mlp(self, x, mlp):
        return mlp(x)


class FieldPlan:
    """The attention graph of one field shape: visible keys, what each slot's state depends on, and the distinct
    contents of any set of slots over the cases."""

    def __init__(self, model, ids: torch.Tensor, pos: torch.Tensor):
        cfg = model.cfg
        self.model, self.ids = model, ids
        N, Fn = ids.shape
        self.n_slots = Fn
        device = model.wte.weight.device
        dtype = model.wte.weight.dtype
        bias = model.scheme.bias(pos[None], pos[None])  # (1, H, F, F), -inf outside the window
        causal = torch.ones(Fn, Fn, dtype=torch.bool, device=device).tril()
        if bias is None:
            bias = torch.zeros(1, cfg.n_head, Fn, Fn, dtype=dtype, device=device)
        self.bias = bias[0]
        visible = causal & torch.isfinite(self.bias).all(0)
        self.keys = [torch.nonzero(visible[k]).flatten().tolist() for k in range(Fn)]
        self.depth = cfg.n_layer * (cfg.test_recurrences or cfg.recurrences)
        # reach[t][k]: slots whose tokens the state of k after t steps depends on
        self.reach = [[[k] for k in range(Fn)]]
        for _ in range(self.depth):
            prev = self.reach[-1]
            self.reach.append([sorted(set().union(*(prev[j] for j in self.keys[k]))) for k in range(Fn)])
        # hops[k]: steps from k to the query; slot k is needed after step t if hops[k] <= depth - t
        self.hops = [math.inf] * Fn
        self.hops[Fn - 1] = 0
        for k in range(Fn - 1, -1, -1):
            for j in self.keys[k]:
                self.hops[j] = min(self.hops[j], self.hops[k] + 1)
        self.ids_cpu = ids.cpu()
        self.base = int(self.ids_cpu.max()) + 1 if self.ids_cpu.numel() else 1
        self.device = device
        self.extra = model.scheme.embed(pos[None])
        self._distinct: dict[tuple, tuple] = {}

    def unique(self, slots: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Distinct contents of these slots over the cases (first case of each, inverse), on the device."""
        key = tuple(slots)
        if key not in self._distinct:
            first, inverse = _unique_rows(self.ids_cpu[:, slots], self.base)
            self._distinct[key] = (first.to(self.device), inverse.to(self.device))
        return self._distinct[key]


def propagate(plan: FieldPlan, ops, states: list[int] | None = None):
    """The query's final state (before ln_f) in each distinct case, as `ops` computes it, and per case which row
    is its state: (values, inverse)."""
    model = plan.model
    cfg = model.cfg
    Fn, depth = plan.n_slots, plan.depth
    embed: list = [None] * Fn  # each slot's embedding in each case, computed per distinct token

    def embedding(k: int):
        if embed[k] is None:
            embed[k] = ops.embed(model, plan.ids[:, k], None if plan.extra is None else plan.extra[0, k])
        return embed[k]

    if hasattr(ops, "step"):
        ops.step(0, depth)
    tables: list[_Table | None] = [None] * Fn
    for k in range(Fn):
        if plan.hops[k] <= depth:
            first, inverse = plan.unique([k])
            tables[k] = _Table(ops.take(embedding(k), first), inverse)
    if states is not None:
        _count(states, 0, tables)
    for t in range(1, depth + 1):
        r, i = divmod(t - 1, cfg.n_layer)
        block = model.blocks[i]
        if hasattr(ops, "step"):
            ops.step(t, depth)
        inputs: dict[int, tuple] = {}  # slot -> (its block input z, q, k, v) per distinct state after t - 1
        block_inputs: dict[int, object] = {}

        def block_input(j: int):
            if j not in block_inputs:
                z = tables[j].values
                if (i == 0 and r > 0) or (i > 0 and cfg.input_injection):  # h + x, or input injection
                    z = ops.add(z, ops.take(embedding(j), plan.unique(plan.reach[t - 1][j])[0]))
                block_inputs[j] = z
            return block_inputs[j]

        def prepare(j: int):
            if j not in inputs:
                z = block_input(j)
                qkv = ops.linear(ops.layer_norm(z, block.ln1), block.attn.qkv)
                inputs[j] = (z, *ops.split(qkv, cfg.n_embd))
            return inputs[j]

        new: list[_Table | None] = [None] * Fn
        for k in range(Fn):
            if plan.hops[k] > depth - t:
                continue
            first, inverse = plan.unique(plan.reach[t][k])
            if hasattr(ops, "layer"):  # the arithmetic bounds a whole layer at once (verify/meanvalue.py)
                keys = plan.keys[k]
                xs = ops.stack([ops.take(block_input(j), tables[j].inverse[first]) for j in keys])
                out = ops.layer(block, xs, keys.index(k), plan.bias[:, k, keys], cfg.n_head, t == depth)
                new[k] = _Table(out, inverse)
                continue
            rows = tables[k].inverse[first]
            z = ops.take(prepare(k)[0], rows)
            q = ops.take(prepare(k)[1], rows)
            ks = ops.stack([ops.take(prepare(j)[2], tables[j].inverse[first]) for j in plan.keys[k]])
            vs = ops.stack([ops.take(prepare(j)[3], tables[j].inverse[first]) for j in plan.keys[k]])
            y = ops.attention(q, ks, vs, plan.bias[:, k, plan.keys[k]], cfg.n_head)
            z = ops.add(z, ops.linear(y, block.attn.proj))
            z = ops.add(z, ops.mlp(ops.layer_norm(z, block.ln2), block.mlp))
            new[k] = _Table(z, inverse)
        tables = new
        if states is not None:
            _count(states, t, tables)
    last = tables[Fn - 1]
    return last.values, last.inverse


@torch.no_grad()
def field_logits(model, ids: torch.Tensor, pos: torch.Tensor, states: list[int] | None = None) -> torch.Tensor:
    """Logits (N, V) at the last token of each field ids (N, F) whose tokens have position ids pos (F, ...).

    `states`, if given, gets the token states computed at each layer added in (index 0: embeddings): the cost
    model a certificate reports, against N * F per layer for feeding every case whole."""
    values, inverse = propagate(FieldPlan(model, ids, pos), Float(), states)
    return model.head(model.ln_f(values))[inverse]


def _count(states: list[int], layer: int, tables: list) -> None:
    while len(states) <= layer:
        states.append(0)
    states[layer] += sum(len(_distinct(t.values)) for t in tables if t is not None)


def _distinct(values):
    """The distinct states of a table: its rows (a Ball's midpoints)."""
    return values.mid if hasattr(values, "mid") else values
