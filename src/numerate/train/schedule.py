import math


def get_lr(step: int, cfg) -> float:
    """Linear warmup to cfg.lr, then cosine decay to cfg.lr * cfg.min_lr_ratio at cfg.max_steps."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + 0.5 * (cfg.lr - floor) * (1 + math.cos(math.pi * progress))


def make_optimizer(model, cfg, extra=None):
    """AdamW; weight decay on the matrices of linear layers only (not on embeddings, norms or biases). A matrix
    shared by two modules (a head tied to the embedding) is an embedding: it is placed once, where first met.
    `extra` (auxiliary probes, train/auxiliary.py) is trained beside the model, without weight decay."""
    import torch

    decay, no_decay, seen = [], [], set()
    modules = list(model.modules()) + ([] if extra is None else list(extra.modules()))
    for module in modules:
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            (decay if isinstance(module, torch.nn.Linear) and name == "weight" else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.98))
