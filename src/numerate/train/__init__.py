"""Training: one generic loop, with schedule, distributed setup and checkpoints as small named pieces."""
