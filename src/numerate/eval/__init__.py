"""Evaluation: batched greedy decoding with a KV cache, exact match over length grids, error reports."""
