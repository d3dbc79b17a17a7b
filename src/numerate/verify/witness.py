"""Real problems a page model writes wrong: named instead of the template pages or forms a refuted case came from."""

from __future__ import annotations

import torch

from numerate.tasks.base import Problem


def witness_pages(
    bundle, limit: int = 10, per_size: int = 40, max_len: int = 6, seed: int = 0, max_tokens: int = 4_000
) -> list[Problem]:
    """Real problems whose page the model writes wrong, at most `limit` of them, smallest first.

    A case the proof refutes may come from a template page whose digits stand for a field's local variables
    (verify/page_grid.py): naming that page would say nothing about a problem `solve` gets wrong. Here real
    pages are read as written (teacher forcing) and every query's argmax is compared with the token the page has
    next; the first mismatch is where greedy decoding leaves the page, so `solve` gets such a problem wrong.
    Candidates: `per_size` problems for every pair of operand lengths up to `max_len` from every sampler of the
    task (adversarial ones included) and from its training mixture, each page of at most `max_tokens` tokens
    (a page model's forward pass holds a (query, key) table)."""
    import random

    tok, fmt, task, model = bundle.tok, bundle.fmt, bundle.task, bundle.model
    rng = random.Random(seed)
    found: list[Problem] = []
    for total in range(2, 2 * max_len + 1):  # small pages first
        sizes = [(n, total - n) for n in range(1, max_len + 1) if 1 <= total - n <= max_len]
        problems = []
        for size in sizes:
            for sampler in task.samplers:
                problems += [task.sample(rng, sampler, size) for _ in range(per_size // len(task.samplers) + 1)]
        problems += [task.sample_range(rng, 1, max(sizes[-1])) for _ in range(per_size)]
        by_length: dict[int, list] = {}
        for p in dict.fromkeys(problems):
            ids = tok.encode(fmt.prompt(p) + fmt.target(p, task.answer(p))) + [tok.eos_id]
            if len(ids) > max_tokens:
                continue
            by_length.setdefault(len(ids), []).append((p, ids, len(tok.encode(fmt.prompt(p)))))
        for group in by_length.values():
            x = torch.tensor([ids for _, ids, _ in group])
            with torch.no_grad():
                pred = model(x, model.positions(x)).argmax(-1)
            for row, (p, ids, start) in enumerate(group):
                if not torch.equal(pred[row, start - 1 : -1], x[row, start:]):
                    found.append(p)
                    if len(found) >= limit:
                        return found
    return found
