"""Two switches that make an adder smaller without changing what it computes: a head tied to the token embedding
(model.tie_embeddings) and a row table as small as the problems need (model.pos_rows). Every reader computes with
the same numbers: a tied folder whose file holds a head that is not the embedding is refused."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from numerate import checkpoint, config
from numerate.errors import UsageError

ROOT = Path(__file__).parent.parent


def _small(tmp_path, *extra):
    cfg = config.load("add-tiny", ["model.tie_embeddings=true", "model.pos_rows=3", *extra])
    bundle = checkpoint.build(cfg)
    folder = tmp_path / "small"
    checkpoint.save_model(folder, bundle, {"step": 0})
    return bundle, folder


def test_a_tied_head_is_the_embedding_and_counts_once(tmp_path):
    bundle, folder = _small(tmp_path)
    model = bundle.model
    assert model.head.weight is model.wte.weight
    untied = checkpoint.build(config.load("add-tiny", []))
    assert untied.model.num_params() - model.num_params() == 56 + 13 * 4  # the head, and rows 3-15
    loaded = checkpoint.load_model(folder)
    assert loaded.model.head.weight is loaded.model.wte.weight
    assert torch.equal(loaded.model.wte.weight, model.wte.weight)


def test_rows_past_a_small_table_share_its_last_row(tmp_path):
    bundle, _ = _small(tmp_path)
    scheme = bundle.model.scheme
    ids = torch.tensor([bundle.tok.encode("12+34+56+78=")])
    rows = scheme.positions(ids)[0, :, 1]
    assert int(rows.max()) == 2 and scheme.rows.num_embeddings == 3


def test_a_tied_folder_whose_head_is_not_its_embedding_is_refused(tmp_path):
    from safetensors.numpy import load_file, save_file

    _, folder = _small(tmp_path)
    w = load_file(str(folder / "model.safetensors"))
    w["head.weight"] = (w["head.weight"] + np.float32(0.5)).astype(np.float32)
    save_file(w, str(folder / "model.safetensors"))
    side = json.loads((folder / "config.json").read_text())
    side["weights_sha256"] = checkpoint.sha256(folder / "model.safetensors")
    (folder / "config.json").write_text(json.dumps(side))
    with pytest.raises(UsageError, match="tie_embeddings is on, but head.weight is not wte.weight"):
        checkpoint.load_model(folder)


def test_the_switches_at_their_defaults_leave_what_a_certificate_binds_unchanged(tmp_path):
    """A folder written before the switches existed (no such keys) and one written now (keys at their
    defaults) bind the same computation: shipped certificates stay valid."""
    from numerate.verify.binding import computation

    old = checkpoint.load_model(ROOT / "models" / "add-tiny")
    folder = tmp_path / "add-tiny"
    shutil.copytree(ROOT / "models" / "add-tiny", folder)
    side = json.loads((folder / "config.json").read_text())
    side["config"]["model"].update(tie_embeddings=False, pos_rows=16)
    (folder / "config.json").write_text(json.dumps(side))
    assert computation(checkpoint.load_model(folder)) == computation(old)


def test_a_tied_model_trains_and_its_head_stays_the_embedding(tmp_path):
    from conftest import tiny_config

    from numerate.train.loop import train

    out = tmp_path / "run"
    train(tiny_config("model.tie_embeddings=true", "model.pos_rows=3", "train.max_steps=5"), out, quiet=True)
    loaded = checkpoint.load_model(out)
    assert loaded.model.head.weight is loaded.model.wte.weight
