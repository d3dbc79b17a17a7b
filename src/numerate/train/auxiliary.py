"""Auxiliary losses: a second training signal beside next-token cross-entropy, chosen by `train.aux_loss`.

``running-sum`` (Bai et al. 2025, *Why Can't Transformers Learn Multiplication?*): at the input position that
predicts answer digit k of a * b, a linear probe on each attention head's output (before the heads are mixed) of
layer `train.aux_layer` regresses the running sum ĉ_k = Σ_{i+j=k} a_i b_j + ĉ_{k-1} // 10, whose last digit is the
answer digit and whose tens are the carry (tasks/multiplication.running_sums). Plain fine-tuning settles in a
local optimum that never forms the long-range partial-product sums; asking every head to carry ĉ_k is the
inductive bias the paper found enough for 4 x 4 products. The probes are trained with the model and thrown away:
a model folder holds the transformer alone, and the probes live in the run's training state (so a resumed run
goes on with them).

An auxiliary loss is a module with parameters, built from (config, model, task, format), whose `loss(y, rows,
eos_id)` reads what it captured during the forward pass that produced the logits.
"""

from __future__ import annotations

import torch
from torch import nn

from numerate.data import IGNORE
from numerate.errors import UsageError
from numerate.registry import Registry

AUX_LOSSES: Registry = Registry("auxiliary loss")

SCALE = 100.0  # running sums are regressed in hundreds: a 4 x 4 product's reach 300, so the loss starts near 1


@AUX_LOSSES.register("running-sum", "probes on each attention head regress the answer digits' running sums (Bai 2025)")
class RunningSumProbes(nn.Module):
    def __init__(self, cfg, model, task, fmt):
        super().__init__()
        m = cfg.model
        if not hasattr(task, "running_sums"):
            raise UsageError(f"train.aux_loss=running-sum needs a task that states running sums, not {task.name}")
        if not fmt.reverse or not fmt.pad or fmt.group or fmt.hints or fmt.spaces:
            raise UsageError(
                "train.aux_loss=running-sum places answer digits by their order: it needs format.reverse and "
                "format.pad, without group, hints or spaces"
            )
        if not -m.n_layer <= cfg.train.aux_layer < m.n_layer:
            raise UsageError(f"train.aux_layer={cfg.train.aux_layer} is not a layer of a {m.n_layer}-layer model")
        self.task, self.fmt, self.scale = task, fmt, cfg.train.aux_weight
        self.n_head, self.head_size = m.n_head, m.n_embd // m.n_head
        self.weight = nn.Parameter(torch.zeros(m.n_head, self.head_size))
        self.bias = nn.Parameter(torch.zeros(m.n_head))
        layer = model.blocks[cfg.train.aux_layer]
        # The input of the attention's output projection is the heads' outputs side by side (B, T, H * D). A looped
        # model calls it once per recurrence: the last call, the one the logits come from, is kept.
        self._hook = layer.attn.proj.register_forward_pre_hook(self._capture)
        self._heads: torch.Tensor | None = None

    def _capture(self, module, args) -> None:
        self._heads = args[0] if torch.is_grad_enabled() else None

    def targets(self, problems, y: torch.Tensor, eos_id: int) -> torch.Tensor:
        """(B, T) running sums at the positions that predict each answer digit, NaN elsewhere. Answer digit k of
        an answer of w digits is predicted w - k places before the end token's."""
        out = torch.full(y.shape, float("nan"))
        for row, problem in enumerate(problems):
            _, digits = self.fmt.answer_shape(problem, self.fmt.width(problem))
            ends = (y[row] == eos_id).nonzero()
            if not len(ends):
                continue
            end = int(ends[0])
            sums = self.task.running_sums(problem, digits)
            out[row, end - digits : end] = torch.tensor(sums, dtype=torch.float32) / SCALE
        return out

    def loss(self, problems, y: torch.Tensor, eos_id: int) -> torch.Tensor:
        if self._heads is None:
            raise RuntimeError("the running-sum probes saw no training forward pass")
        B, T, _ = self._heads.shape
        heads = self._heads.view(B, T, self.n_head, self.head_size)
        guess = torch.einsum("bthd,hd->bth", heads, self.weight.to(heads.dtype)) + self.bias.to(heads.dtype)
        want = self.targets(problems, y.cpu(), eos_id).to(heads.device, heads.dtype)
        kept = ~torch.isnan(want) & (y != IGNORE)
        want = torch.where(kept, want, 0.0)  # NaN kept out of the graph: 0 * NaN would poison the gradient
        self._heads = None
        if not kept.any():
            return guess.sum() * 0.0
        return self.scale * ((guess - want[..., None]) ** 2)[kept].mean()

    def close(self) -> None:
        self._hook.remove()


def build_aux_loss(cfg, model, task, fmt) -> nn.Module | None:
    """The auxiliary loss `cfg.train.aux_loss` names, attached to `model`, or None for plain training."""
    if cfg.train.aux_loss == "none":
        return None
    return AUX_LOSSES.get(cfg.train.aux_loss)(cfg, model, task, fmt)
