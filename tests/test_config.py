from pathlib import Path

import pytest

from numerate import config
from numerate.config import presets
from numerate.errors import UsageError

PRESETS = sorted(presets())


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_and_builds(name):
    from numerate import checkpoint

    cfg = config.load(name)
    bundle = checkpoint.build(cfg)
    assert bundle.model.num_params() > 0


def test_overrides_and_include(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("model:\n  n_layer: 3\ntrain:\n  lr: 0.01\n")
    top = tmp_path / "top.yaml"
    top.write_text("include: base.yaml\nmodel:\n  n_head: 2\n")
    cfg = config.load(str(top), ["train.lr=0.5", "task.train_lengths=[2, 5]"])
    assert (cfg.model.n_layer, cfg.model.n_head, cfg.train.lr, cfg.task.train_lengths) == (3, 2, 0.5, [2, 5])


@pytest.mark.parametrize(
    "override, message",
    [
        (["model.n_layr=3"], "did you mean 'n_layer'"),
        (["modle.n_layer=3"], "did you mean 'model'"),
        (["model.n_layer=three"], "expects int"),
        (["model.n_layer"], "section.key=value"),
        (["model.n_embd=30"], "divisible"),
        (["task.train_lengths=[5, 2]"], "lo <= hi"),
        (["model.pos=ropee"], "did you mean 'rope'"),
    ],
)
def test_bad_config_is_named(override, message):
    with pytest.raises(UsageError, match=message):
        from numerate import checkpoint

        checkpoint.build(config.load(None, override))


def test_resolved_config_round_trips():
    cfg = config.load("demo")
    assert config.from_dict(cfg.to_dict()) == cfg


def test_the_model_presets_are_the_shipped_models_recipes():
    """configs/models/ holds exactly the recipes of folders in models/ (a step model may sit inside a procedure's
    folder); everything else is an experiment."""
    from numerate.config import preset_kind

    root = Path(__file__).parent.parent / "models"
    shipped = {p.parent.name for p in root.glob("**/config.json")}
    for name, path in presets().items():
        if preset_kind(path) == "models":
            assert name in shipped, f"preset {name} is filed as a shipped model's recipe, but models/ has no {name}"
            cards = [c for c in root.glob(f"**/{name}/README.md")]
            assert any(
                f"configs/models/{name}.yaml" in c.read_text() or f"train {name}" in c.read_text() for c in cards
            )
