"""Train an adder from nothing and stop as soon as it is proven right at every length (about a minute here).

python examples/train_and_prove_an_adder.py [--out runs/example-adder] [--max-steps 1500]
"""

import argparse

import numerate

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--out", default="runs/example-adder")
p.add_argument("--max-steps", type=int, default=1500, help="give up unproven after this many steps")
args = p.parse_args()

model = numerate.train(
    "add-proof",
    out=args.out,
    until_proven=True,
    train__max_steps=args.max_steps,
    train__threads=2,
    train__eval_every=100,
)
if model.proven_at is None:
    print(f"not proven within {args.max_steps} steps; {args.out} holds the model")
else:
    print(f"proven at step {model.proven_at}: certificate in {args.out}/certificate.json")
    print(model.solve(["123456789123456789+987654321987654321"]))
