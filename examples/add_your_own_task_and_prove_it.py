"""Add your own task and prove a model of it, end to end: a new digit-local task (carry-less addition), its
proof contract, training until proven, `verify` and `explain`.

python examples/add_your_own_task_and_prove_it.py [--out runs/example-carryless] [--max-steps 1500]

Carry-less addition writes each column's digit sum mod 10 and drops the carry: 58 # 67 = 15. It is the simplest
task a transformer can learn exactly, and a good first proof: nothing passes from one column to the next.
"""

import argparse
import random

import numerate
from numerate.tasks.base import TASKS, Problem, Task, random_number
from numerate.tasks.proof import ProofContract


def carryless(a: int, b: int) -> int:
    total, place = 0, 1
    while a or b:
        total += (a % 10 + b % 10) % 10 * place
        a, b, place = a // 10, b // 10, place * 10
    return total


# 1. The task: how to sample a problem and what its answer is. Registering it makes `task.name=carryless` work.
@TASKS.register("carryless", "a # b: each column's digit sum mod 10, no carry")
class Carryless(Task):
    name, symbol = "carryless", "#"
    n_operands = 2

    def answer(self, problem: Problem) -> int:
        return carryless(*problem.operands)

    def answer_shape(self, problem, width):
        return 1, width  # no carry: the answer is never wider than the operands

    def sample(self, rng: random.Random, sampler: str, lengths) -> Problem:
        if sampler != "uniform":
            raise self.unknown_sampler(sampler)
        return Problem(tuple(random_number(rng, n) for n in lengths))

    def sample_range(self, rng, lo, hi):
        return Problem(tuple(random_number(rng, rng.randint(lo, hi)) for _ in range(2)))

    # 2. The proof contract: the question's two rows, and what one column passes to the next (nothing). A column
    # of zeros sets that state; at the top of the numbers a non-zero column (1, 0) does.
    def proof_contract(self):
        return ProofContract(
            rows=("a", "b"),
            states=("nothing",),
            set_by=(((0, 0), (1, 0)),),
            claim="pair of non-negative integers",
        )


p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--out", default="runs/example-carryless")
p.add_argument("--max-steps", type=int, default=1500, help="give up unproven after this many steps")
args = p.parse_args()

# 3. Train the add-proof recipe (one-sided column window, small enough to prove) on the new task, and check after
# every evaluation whether the model is proven; stop at the first proof.
model = numerate.train(
    "add-proof",
    out=args.out,
    until_proven=True,
    task__name="carryless",
    train__max_steps=args.max_steps,
    train__eval_every=100,
    train__threads=2,
)
print(model.solve(["58#67", "123456789#111111111"]))  # [15, 234567890]

# 4. Prove it (or see why not): every case of every length, rounding bounded.
certificate = model.verify()
print(certificate.summary().splitlines()[0])
if not certificate.proven:
    print(f"not proven within {args.max_steps} steps; {args.out} holds the model")
else:
    # 5. Explain it: the column automaton the model computes, compared with the task's own.
    print(f"proven at step {model.proven_at}")
    print(model.explain().splitlines()[0])
