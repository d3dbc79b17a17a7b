"""Training: one generic loop, with schedule, distributed setup and checkpoints as small named pieces."""

from numerate.registry import callable_package

callable_package(__name__, "numerate.api:train")  # numerate.train(preset, out=...) trains one (numerate/api.py)
