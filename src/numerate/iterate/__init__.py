"""The iteration lab: solve iterative tasks one-shot, with a looped model, or step by step in an external loop."""
