import random

import torch

from numerate.eval.adaptive import answer_until_stable
from numerate.eval.answer import answer_problems
from numerate.tasks.base import Problem


def test_until_stable_stops_when_two_depths_agree(tiny_bundle):
    b = tiny_bundle("model.recurrences=2")
    torch.manual_seed(3)
    for p in b.model.parameters():
        p.data.normal_(0, 0.3)
    rng = random.Random(0)
    problems = [Problem((rng.randrange(1000), rng.randrange(1000))) for _ in range(12)]
    answers, used = answer_until_stable(b, problems, r_min=1, r_max=6)
    assert len(answers) == len(used) == len(problems)
    for p, a, r in zip(problems, answers, used):
        assert 1 <= r <= 6
        at_r = answer_problems(b, [p], recurrences=r)[0]
        assert a.text == at_r.text  # the answer returned is the one decoded at the depth reported
        if r < 6:
            assert r > 1 and answer_problems(b, [p], recurrences=r - 1)[0].text == a.text
