"""numerate from Python: load a model, answer problems, evaluate it, prove it, read its automaton, train one.

    >>> import numerate
    >>> adder = numerate.load("models/add-proof")
    >>> adder.solve(["12+34", "999+1"])
    [46, 1000]

Everything here is a thin layer over the library the command line uses (`numerate solve`, `eval`, `verify`,
`explain`, `train`); `import numerate` loads none of it until a name is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from numerate.errors import UsageError

if TYPE_CHECKING:
    from numerate.solver.models import Model


def load(path: str | Path, device: str = "cpu"):
    """A model folder (`models/add-proof`, a run folder) or a procedure folder, opened as a solver
    (numerate/solver): it answers lines (`solve`), and a model folder also evaluates, proves and explains itself.

    >>> numerate.load("models/add-proof")
    <numerate.Model addition from models/add-proof>
    """
    from numerate.solver import open_folder

    return open_folder(path, device=device)


def _overrides(overrides: dict) -> list[str]:
    """`train.max_steps=100` from {"train.max_steps": 100} or {"train__max_steps": 100}."""
    out = []
    for key, value in overrides.items():
        key = key.replace("__", ".")
        if "." not in key:
            raise UsageError(f"override {key!r}: name a config key as section.key (e.g. train.max_steps)")
        out.append(f"{key}={json.dumps(value) if not isinstance(value, str) else value}")
    return out


def train(
    preset_or_config: str | Path,
    out: str | Path | None = None,
    until_proven: bool = False,
    quiet: bool = False,
    callbacks: Sequence = (),
    resume: bool = False,
    **overrides,
) -> "Model":
    """Train a preset (`numerate.presets()`) or YAML config, with config overrides as keyword arguments
    (`train__max_steps=300` or `**{"train.max_steps": 300}`), and return the trained model. `until_proven` stops
    at the first evaluation where the model is proven (the certificate is written into `out`). Progress shows as
    a bar on a terminal or in a notebook and as a line per evaluation in a log; `quiet=True` silences it.

    >>> model = numerate.train("add-proof", out="runs/api-adder", until_proven=True)  # doctest: +SKIP
    """
    from numerate import config

    cfg = config.load(str(preset_or_config), _overrides(overrides))
    out = Path(out or Path("runs") / Path(str(preset_or_config)).stem)
    model, _, _ = run_training(cfg, out, until_proven=until_proven, quiet=quiet, callbacks=callbacks, resume=resume)
    return model


def run_training(cfg, out: Path, until_proven=False, prove_every=None, quiet=True, callbacks=(), resume=False):
    """Train a loaded config into `out` (what `train` and `numerate train` both do): the model, the last
    evaluation row, and the until-proven callback (None without `until_proven`) with its attempts."""
    from numerate.train.loop import train as run

    extra = list(callbacks)
    proof = None
    if until_proven:
        from numerate.checkpoint import build
        from numerate.verify.until_proven import UntilProven, refuse_unprovable

        refuse_unprovable(build(cfg))
        proof = UntilProven(every=prove_every, quiet=quiet)
        extra.append(proof)
    elif prove_every:
        raise UsageError("prove_every (--prove-every) goes with until_proven (--until-proven)")
    row = run(cfg, out, resume=resume, quiet=quiet, callbacks=extra)
    model = load(out)
    model.proven_at = None if proof is None else proof.proven_at
    return model, row, proof


def iterate(model, **settings) -> list[dict]:
    """`numerate.load(model).iterate(**settings)`: the iteration lab on a model folder (a path or a loaded Model)."""
    from numerate.solver.models import Model

    return (model if isinstance(model, Model) else load(model)).iterate(**settings)


@dataclass
class Comparison:
    """A finished comparison (`numerate compare`): the table it printed, its summary per variant, and the folder
    holding results.md, results.json, results.png and every run."""

    folder: Path
    table: str
    summary: dict
    rows: dict
    exit_code: int = 0

    @property
    def complete(self) -> bool:
        """Every run of every variant and seed finished (exit code 0)."""
        return self.exit_code == 0


def compare(
    spec: str | Path | dict,
    out: str | Path | None = None,
    jobs: int = 2,
    ray: str | None = None,
    report_only: bool = False,
) -> Comparison:
    """Train every variant of `spec` at every seed on identical data and evaluate them on identical test sets
    (`numerate compare`; the spec's keys are in its --help). `spec` is a YAML file or the same mapping as a dict;
    `ray="local"` (or a cluster address) runs the trainings as Ray tasks, `jobs` at once. Finished runs are kept,
    so the same call again resumes where it stopped.

    >>> result = numerate.compare({"base": "demo", "variants": {"nope": ["model.pos=nope"]}})  # doctest: +SKIP
    """
    from numerate.comparison import load_spec, run_compare
    from numerate.sweep import Engine

    if isinstance(spec, dict):
        import yaml

        out = Path(out or "runs/compare")
        out.mkdir(parents=True, exist_ok=True)
        path = out / "spec.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False))
    else:
        path = Path(spec)
        out = Path(out or Path("runs") / ("compare-" + path.stem))
    load_spec(str(path))  # refuse a bad spec before anything starts
    code = run_compare(str(path), out, engine=Engine(jobs=jobs, ray=ray), report_only=report_only)
    results = json.loads((out / "results.json").read_text())
    table = (out / "results.md").read_text().split("```\n", 1)[1].rsplit("\n```", 1)[0]
    return Comparison(out, table, results["summary"], results["rows"], code)


def presets() -> list[str]:
    """The config presets `numerate train NAME` takes.

    >>> "add-proof" in numerate.presets()
    True
    """
    from numerate.config import presets as shipped

    return sorted(shipped())


def tasks() -> list[str]:
    """The registered tasks (`task.name`).

    >>> "addition" in numerate.tasks()
    True
    """
    from numerate.tasks import TASKS

    return list(TASKS.names())


def schemes() -> list[str]:
    """The registered positional schemes (`model.pos`).

    >>> "coupling-2d" in numerate.schemes()
    True
    """
    from numerate.model.posenc import SCHEMES

    return list(SCHEMES.names())


def language_models() -> list[str]:
    """The named real language models `probe` and `iterate` take by name (`numerate lm list` says how to get each).

    >>> "qwen2.5-coder-1.5b" in numerate.language_models()
    True
    """
    from numerate.lm.zoo import MODELS

    return list(MODELS)


def _open_lm(lm, chat: bool | None, device: str, max_tokens: int):
    """A LanguageModel from what the caller gave: one already (their own adapter), a Model, or a --hf name/path."""
    from numerate.lm.base import LanguageModel

    if isinstance(lm, LanguageModel) or hasattr(lm, "complete"):
        return lm
    from numerate.solver.models import Model

    if isinstance(lm, Model):
        from numerate.lm.numerate_model import NumerateModel

        return NumerateModel.from_bundle(lm.bundle, name=str(lm.folder or "numerate model"))
    if isinstance(lm, str | Path):
        from numerate.lm.hf import HuggingFaceLM

        return HuggingFaceLM(str(lm), chat=bool(chat), max_tokens=max_tokens, device=device)
    raise UsageError(f"probe: give a language model (an object with complete()), a Model or a --hf name, not {lm!r}")


def probe(
    lm,
    task: str = "addition",
    lengths: Sequence[int] = (1, 2, 3, 4),
    samples: int = 20,
    shots: int = 0,
    representation: str = "plain",
    chat: bool | None = None,
    seed: int = 1234,
    device: str = "cpu",
    max_tokens: int = 64,
) -> list[dict]:
    """A language model through `numerate probe`'s questions: one row per length (exact match, malformed replies,
    where the wrong digits sit). `lm` is your own adapter (a `numerate.lm.base.LanguageModel`: `complete(requests)`
    returns one `Completion` per request), a name from `language_models()` or a local model path (loaded with
    transformers), or a numerate Model.

    >>> from numerate.lm.base import Completion, LanguageModel
    >>> class Zero(LanguageModel):
    ...     def complete(self, requests, progress=None):
    ...         return [Completion("0") for _ in requests]
    >>> rows = numerate.probe(Zero(), lengths=[1, 2], samples=5, shots=3)
    >>> [(r["len_a"], r["n"], r["exact_match"]) for r in rows]
    [(1, 5, 0.0), (2, 5, 0.0)]
    """
    from numerate.lm.probe import ProbeSettings, run_probe
    from numerate.tasks import get_task

    model = _open_lm(lm, chat, device, max_tokens)
    cells = [("uniform", (n, n)) for n in lengths]
    settings = ProbeSettings(samples=samples, seed=seed, representation=representation, shots=shots)
    rows, _ = run_probe(model, get_task(task), cells, settings)
    return rows
