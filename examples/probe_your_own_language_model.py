"""Put your own language model through the probe: write an adapter (one method), then read where it goes wrong.

python examples/probe_your_own_language_model.py [--hf qwen2.5-coder-0.5b] [--samples 20]

The adapter below is a stand-in that adds correctly up to 4 digits and guesses beyond: replace `complete` with a
call to your model (an HTTP client, a local pipeline...). `--hf NAME` probes a real model instead (`numerate lm
list`); `--openai-base-url` on the command line (`numerate probe`) does the same for any OpenAI-compatible server.
"""

import argparse
import random
import re

import numerate
from numerate.lm.base import Completion, LanguageModel


class ShortSumsOnly(LanguageModel):
    """Reads the last question of a plain k-shot prompt ("123+45="); exact below 10,000, a guess above."""

    name, chat = "short-sums-only", False

    def complete(self, requests, progress=None):
        rng = random.Random(0)
        out = []
        for r in requests:
            a, b = map(int, re.findall(r"(\d+)\+(\d+)=$", r.prompt.strip())[-1])
            total = a + b if max(a, b) < 10_000 else rng.randrange(10 ** (len(str(a + b)) - 1), 10 ** len(str(a + b)))
            out.append(Completion(str(total)))
        return out


p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--hf", help="a real model by name or path instead of the stand-in")
p.add_argument("--samples", type=int, default=20)
args = p.parse_args()

lm = args.hf or ShortSumsOnly()
rows = numerate.probe(lm, lengths=[1, 2, 4, 6, 8], samples=args.samples, shots=3, chat=bool(args.hf))
for r in rows:
    print(f"{r['len_a']:>2} digits: exact {100 * r['exact_match']:5.1f}%  malformed {r['malformed']}")
