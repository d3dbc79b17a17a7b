"""Run a comparison on Ray: two positional schemes, trained at several seeds on identical data and evaluated on
identical test sets far beyond the training lengths, each training a Ray task.

python examples/compare_on_ray.py [--ray local|ADDRESS] [--steps 1500] [--seeds 0,1,2] [--out runs/example-compare]

`--ray local` starts a Ray cluster on this machine (`pip install 'numerate[ray]'`); give a cluster's address to
run on it instead (the run folders must then be on storage every node sees). `--ray none` runs the same trainings
in local threads. Finished runs are kept: the same command again resumes where it stopped.
"""

import argparse

import numerate

p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
p.add_argument("--ray", default="local", help="'local', a cluster address, or 'none' for local threads")
p.add_argument("--steps", type=int, default=1500, help="training steps per run")
p.add_argument("--seeds", default="0,1,2")
p.add_argument("--samples", type=int, default=50, help="test problems per length")
p.add_argument("--out", default="runs/example-compare")
args = p.parse_args()

spec = {
    "base": "demo",  # the preset every variant starts from
    "seeds": [int(s) for s in args.seeds.split(",")],
    "set": [f"train.max_steps={args.steps}", f"train.eval_every={args.steps}", f"train.ckpt_every={args.steps}"],
    "eval": {"lengths": "1-20", "samples": args.samples, "carry": True},
    "variants": {
        "coupling-2d": [],  # the demo's own scheme: column = significance, row = number
        "learned": ["model.pos=learned"],  # absolute learned positions, the usual baseline
    },
}
result = numerate.compare(spec, out=args.out, jobs=2, ray=None if args.ray == "none" else args.ray)
# The table is printed above; result.table holds it, and result.summary the numbers per variant and band.
for variant, bands in result.summary.items():
    print(f"{variant}: median exact match to 2x the training length {bands['to 2x']['median']:.1f}%")
print(f"{len(result.summary)} variants compared; results in {result.folder} (results.md, .json, .png, every run)")
