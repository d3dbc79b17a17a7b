"""Load a shipped model, answer problems, evaluate it far beyond its training lengths, and prove it.

python examples/use_a_proven_model.py [--samples 100]
"""

import argparse

import numerate

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--samples", type=int, default=100, help="problems per length (the suite runs 10)")
args = p.parse_args()

adder = numerate.load("models/add-proof")
print(adder.solve(["12+34", "99999999999999999999+1"]))

result = adder.evaluate(lengths="5,20,100", samples=args.samples, adversarial=True)
print(result.table())

certificate = adder.verify()  # every case of every length, rounding bounded: about 10 s on 2 cores
print(certificate.summary().splitlines()[0])
