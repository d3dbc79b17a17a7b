"""Wrong models built to fool a proof: near-ties, and hidden units whose huge outputs cancel only in exact
arithmetic. Shared by the proof tests."""

from __future__ import annotations

import copy

import torch

from numerate.verify import cases as cases_mod
from numerate.verify.field import structure_classes
from numerate.fieldview import depth_of
from numerate.verify.states import field_logits


def classes_of(bundle):
    return structure_classes(bundle, bundle.model.scheme.window, depth_of(bundle.model))[0]


def class_cases(bundle, index: int):
    """The cases of one field class: a 1-D class, or for a page model the index-th field shape of verify/page.py."""
    from numerate.verify import page

    if page.is_page(bundle):
        if bundle.task.proof_contract().page_procedure == "page program":
            from numerate.verify.page_program import CaseNames, form_cases

            view, rel, _, names = list(form_cases(bundle).values())[index]
            t = torch.as_tensor(view.astype("int64"))
            return cases_mod.CaseBatch(t[:, :-1], t[:, -1], rel, None, CaseNames(names))
        if bundle.task.proof_contract().page_procedure:
            from numerate.verify.page_grid import grid_cases

            shapes = grid_cases(bundle)
        else:
            shapes = page.page_cases(bundle)
        view, rel, problems, *_ = list(shapes.values())[index]
        t = torch.as_tensor(view.astype("int64"))
        return cases_mod.CaseBatch(t[:, :-1], t[:, -1], rel, None, problems)
    return cases_mod.case_batch(bundle, cases_mod.plan(bundle, classes_of(bundle)[index]))


def _leads(logits, truth):
    return logits.gather(1, truth[:, None]) - logits


def near_tie(bundle, gap: float, classes: list[int] | None = None):
    """A copy of `bundle` where one case (of the given classes; default every class) has the right token lead a
    wrong one by about `gap` in float64, every other lead unchanged or larger: a shift of ln_f's bias moves one
    logit."""
    best = (float("inf"), None, None, None)
    for index in classes if classes is not None else range(len(classes_of(bundle))):
        cases = class_cases(bundle, index)
        leads = _leads(field_logits(bundle.model, cases.field_ids, cases.pos), cases.truth)
        leads[leads == 0] = float("inf")
        low, at = leads.min(dim=0)
        j = int(low.argmin())
        if float(low[j]) < best[0]:
            best = (float(low[j]), j, cases.field_ids[at[j]][None], cases.pos)
    _, j, x, pos = best
    with torch.no_grad():  # the chosen case's lead in float64
        logits = copy.deepcopy(bundle.model).double()(x, pos[None])[:, -1]
        truth = int(logits.argmax())
        delta = float(logits[0, truth] - logits[0, j]) - gap
    mutant = copy.copy(bundle)
    mutant.model = copy.deepcopy(bundle.model)
    with torch.no_grad():
        W = mutant.model.head.weight.double()
        target = torch.zeros(W.shape[0], dtype=torch.float64)
        target[j] = delta
        # logits = W (z g + beta): shifting beta by pinv(W) (delta e_j) moves logit j alone, by delta
        mutant.model.ln_f.bias += (torch.linalg.pinv(W) @ target).float()
    return mutant


def cancellation(bundle, index: int, magnitude: float, seed: int = 0):
    """A copy of `bundle` whose last MLP has two barely used hidden units rewired to fire on one case of class
    `index` only, writing +magnitude and -magnitude into one residual coordinate: in exact arithmetic they
    cancel (every exact logit is as before, but for the two units' old, tiny contributions), in floating point
    the sum that holds them can lose everything else. Returns (mutant, the targeted problem)."""
    cases = class_cases(bundle, index)
    model64 = copy.deepcopy(bundle.model).double().eval()
    seen = {}
    mlp = model64.blocks[-1].mlp
    hook = model64.blocks[-1].ln2.register_forward_hook(lambda m, i, o: seen.__setitem__("a", o[:, -1]))
    with torch.no_grad():
        model64(cases.field_ids, cases.pos[None].expand(len(cases.field_ids), *cases.pos.shape))
    hook.remove()
    a = seen["a"]  # (N, C): the last MLP's input at the query, per case
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(a.shape[1], generator=g, dtype=torch.float64)
    u /= u.norm()
    score = a @ u
    top2 = torch.topk(score, 2)
    target = int(top2.indices[0])
    gap = float(top2.values[0] - top2.values[1])
    threshold = float(top2.values[0]) - gap / 2
    slope = 20.0 / gap  # the target's pre-activation is +10, every other case's -10 or lower
    mutant = copy.copy(bundle)
    mutant.model = copy.deepcopy(bundle.model)
    mlp = mutant.model.blocks[-1].mlp
    with torch.no_grad():
        units = torch.argsort(mlp[2].weight.double().norm(dim=0))[:2]  # the two least used hidden units
        for unit, sign in zip(units.tolist(), (1.0, -1.0)):
            mlp[0].weight[unit] = (slope * u).float()
            mlp[0].bias[unit] = -slope * threshold
            mlp[2].weight[:, unit] = 0.0
            mlp[2].weight[0, unit] = sign * magnitude
    return mutant, cases.problem(target)
