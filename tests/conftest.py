import pytest
import torch

from numerate import checkpoint, config


def tiny_config(*overrides: str) -> config.RunConfig:
    """A very small model config for fast tests; overrides as section.key=value strings."""
    base = [
        "model.n_layer=1",
        "model.n_embd=32",
        "model.n_head=2",
        "train.max_steps=20",
        "train.batch_size=16",
        "train.eval_every=10",
        "train.ckpt_every=10",
        "train.eval_samples=8",
        "train.warmup_steps=5",
        "train.threads=1",
        "task.train_lengths=[1, 4]",
        "task.ood_lengths=[5, 6]",
    ]
    return config.load(None, base + list(overrides))


@pytest.fixture
def tiny_bundle():
    def make(*overrides):
        torch.manual_seed(0)
        bundle = checkpoint.build(tiny_config(*overrides))
        bundle.model.eval()
        return bundle

    return make


@pytest.fixture(autouse=True, scope="session")
def threads_from_free_cores():
    """The suite computes with the cores free when it starts: on a shared machine, threads beyond them spin
    against the busy cores (a test that trains pins its own count)."""
    from numerate.devices import free_cpus

    torch.set_num_threads(free_cpus())


@pytest.fixture(autouse=True)
def restore_torch_threads(threads_from_free_cores):
    """Training with train.threads=1 sets torch's global thread count; later tests get the default back."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
