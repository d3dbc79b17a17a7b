"""`numerate train --until-proven`: refused before training outside the provable class; the callback stops a
proven model's run and writes a certificate bound to the exported weights; it keeps going on a wrong model."""

import copy
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from numerate import checkpoint
from numerate.cli import main
from numerate.checkpoint import load_certified
from numerate.verify.binding import certificate_status
from numerate.verify.prove import NotProvable
from numerate.verify.until_proven import UntilProven, refuse_unprovable

MODELS = Path(__file__).parent.parent / "models"


def test_configs_outside_the_provable_class_are_refused_before_training(tmp_path, capsys, tiny_bundle):
    with pytest.raises(NotProvable, match="no column window"):
        refuse_unprovable(tiny_bundle("model.pos=learned"))
    assert main(["train", "demo", "--until-proven", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "cases" in capsys.readouterr().err  # the demo's [-4, 4] window: far too many cases
    assert not (tmp_path / "run").exists()  # nothing was trained


def _ctx(bundle, folder, step=500, acc=1.0):
    stops = []
    ctx = SimpleNamespace(
        cfg=bundle.cfg,
        bundle=bundle,
        folder=SimpleNamespace(path=folder),
        dist=SimpleNamespace(is_main=True),
        step=step,
        is_last=False,
        last_row={"step": step, "acc_id": acc, "acc_ood": acc},
        request_stop=stops.append,
    )
    return ctx, stops


@pytest.mark.slow
def test_a_proven_model_stops_the_run_and_gets_a_certificate_for_its_weights(tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(MODELS / "add-proof", folder)
    (folder / "certificate.json").unlink()
    bundle = checkpoint.load_model(folder)
    ctx, stops = _ctx(bundle, folder, step=bundle.cfg.train.eval_every)
    cb = UntilProven(quiet=True)
    cb.on_step(ctx)
    assert stops and cb.proven_at == ctx.step
    cb.on_end(ctx)
    cert = json.loads((folder / "certificate.json").read_text())
    assert cert["proven"] and cert["training"]["proven_at_step"] == ctx.step
    assert certificate_status(load_certified(folder), folder).text.startswith("certificate matches")  # run in float64


def test_sampled_errors_skip_the_proof_and_a_wrong_model_keeps_training(tmp_path):
    bundle = checkpoint.load_model(MODELS / "add-proof")
    cb = UntilProven(quiet=True)
    ctx, stops = _ctx(bundle, tmp_path, step=250, acc=0.99)
    cb.on_step(ctx)
    assert not cb.attempts and not stops  # sampled accuracy below 100%: no attempt
    wrong = copy.copy(bundle)
    wrong.model = copy.deepcopy(bundle.model)
    with torch.no_grad():
        wrong.model.head.weight[5].zero_()
    ctx, stops = _ctx(wrong, tmp_path, step=250)
    cb.on_step(ctx)
    assert cb.attempts[-1]["verdict"] == "refuted" and not stops
    cb.on_end(ctx)
    assert not (tmp_path / "certificate.json").exists()
