"""numerate from Python: load a model, answer problems, evaluate it, prove it, read its automaton, train one.

    >>> import numerate
    >>> adder = numerate.load("models/add-proof")
    >>> adder.solve(["12+34", "999+1"])
    [46, 1000]

Everything here is a thin layer over the library the command line uses (`numerate solve`, `eval`, `verify`,
`explain`, `train`); `import numerate` loads none of it until a name is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from numerate.errors import UsageError


@dataclass
class Evaluation:
    """Exact match per cell (rows as `numerate eval --json` writes them) and the first wrong answers."""

    rows: list[dict]
    mistakes: list[Any] = field(default_factory=list)
    dims: tuple = ("len_a", "len_b")
    train_max: int | None = None

    def table(self) -> str:
        """The table `numerate eval` prints.

        >>> print(numerate.load("models/add-tiny").evaluate(lengths="3", samples=10).table())  # doctest: +SKIP
        """
        from numerate.eval.cells import format_table

        return format_table(self.rows, dims=self.dims)

    def plot(self, path: str | Path, title: str = "exact match by operand length") -> Path:
        """Exact match against length (a line per sampler), written to `path` (needs the `plot` extra)."""
        from numerate import plots

        plots.sweep({"model": self.rows}, str(path), title, self.train_max, dim=self.dims[-1])
        return Path(path)

    @property
    def exact_match(self) -> float:
        """Problems answered exactly, over every cell the model can represent (%)."""
        rows = [r for r in self.rows if r.get("exact_match") is not None]
        n = sum(r["n"] for r in rows)
        return 100.0 * sum(r["correct"] for r in rows) / n if n else float("nan")


@dataclass
class Certificate:
    """A proof certificate (`numerate verify`'s JSON) with its verdict and readable summary."""

    data: dict

    @property
    def proven(self) -> bool:
        return bool(self.data.get("proven"))

    @property
    def verdict(self) -> str:
        return str(self.data.get("verdict"))

    @property
    def statement(self) -> str:
        return str(self.data.get("statement"))

    def summary(self) -> str:
        """The text `numerate verify` prints."""
        from numerate.verify.prove import summary

        return summary(self.data)

    def save(self, path: str | Path) -> Path:
        """Write the certificate (JSON) and its summary (path with .md), as `numerate verify --out` does."""
        path = Path(path)
        path.write_text(json.dumps(self.data, indent=2) + "\n")
        path.with_suffix(".md").write_text("# Certificate\n\n```\n" + self.summary() + "\n```\n")
        return path


def _problems(task, items: Iterable) -> list:
    from numerate.tasks.base import Problem

    out = []
    for item in items:
        if isinstance(item, Problem):
            out.append(item)
        elif isinstance(item, str):
            try:
                out.append(task.parse_expression(item.strip()))
            except ValueError as exc:
                raise UsageError(f"{item!r} is not {exc}") from None
        elif isinstance(item, (tuple, list)) and all(isinstance(x, int) and x >= 0 for x in item):
            out.append(Problem(tuple(item)))
        else:
            raise UsageError(f"{item!r} is not a problem: give an expression such as '12+34' or operands (12, 34)")
    return out


class Model:
    """A model folder, loaded to run as the command line runs it (in the precision its certificate covers)."""

    def __init__(self, bundle, folder: Path | None = None):
        self.bundle, self.folder = bundle, folder

    @property
    def task(self) -> str:
        return self.bundle.task.name

    def __repr__(self) -> str:
        where = f" from {self.folder}" if self.folder else ""
        return f"<numerate.Model {self.task}{where}>"

    def problems(self, items: Iterable) -> list:
        """Problems from expressions ("12+34"), operand tuples ((12, 34)) or Problem objects."""
        return _problems(self.bundle.task, items)

    def answers(self, problems: Iterable, batch_size: int = 256) -> list:
        """Each problem's Answer (the text written, the value read back, whether it is right)."""
        from numerate.eval.answer import answer_problems
        from numerate.iterate.stepwise import is_stepwise, procedure_answers

        problems = self.problems(problems)
        if is_stepwise(self.bundle.task):
            return procedure_answers(self.bundle, problems, batch_size)
        return answer_problems(self.bundle, problems, batch_size=batch_size)

    def solve(self, problems: Iterable, batch_size: int = 256) -> list:
        """The model's answers as numbers (None where what it wrote is not one), in order.

        >>> numerate.load("models/sub").solve(["3-5", (100, 1)])
        [-2, 99]
        >>> numerate.load("models/page-add").solve(["12+345+9"])  # a page model: the last line of its page
        [366]
        """
        final = getattr(self.bundle.task, "final", None)
        values = [a.value for a in self.answers(problems, batch_size)]
        return [final(v) if final and v is not None else v for v in values]

    def evaluate(
        self,
        lengths: str | Sequence[int] = "1-10",
        samples: int = 100,
        adversarial: bool = False,
        grid: bool = False,
        seed: int = 1234,
        batch_size: int = 512,
    ) -> Evaluation:
        """Exact match on fresh problems per operand length (as `numerate eval`): uniform operands, and with
        `adversarial` the task's hard samplers (carry chains for addition); `grid` pairs every two lengths.

        >>> numerate.load("models/add-proof").evaluate(lengths="5,40", samples=20).exact_match
        100.0
        """
        from numerate.eval.cells import make_cells
        from numerate.eval.evaluate import evaluate
        from numerate.lengths import parse_lengths

        spec = lengths if isinstance(lengths, str) else ",".join(str(int(n)) for n in lengths)
        task = self.bundle.task
        cells = make_cells(parse_lengths(spec), grid, adversarial, task=task)
        rows, mistakes = evaluate(self.bundle, cells, samples=samples, seed=seed, batch_size=batch_size, task=task)
        return Evaluation(rows, mistakes, tuple(task.cell_dims), self.bundle.cfg.task.train_lengths[1])

    def verify(self, precision: str = "float64", progress: bool = False) -> Certificate:
        """Prove the model right on every problem of every length, or refute it (docs/verification.md).

        >>> numerate.load("models/add-tiny").verify().proven
        True
        """
        from numerate.verify.prove import certificate, verify

        result = verify(self.bundle, progress=progress, precision=precision)
        return Certificate(certificate(self.bundle, self.folder or Path("."), result))

    def explain(self) -> str:
        """The automaton a proven model computes, read off its checked cases (`numerate explain`'s table)."""
        from numerate.verify.automaton import NotATransducer, explain

        if not self.verify().proven:
            raise UsageError(f"{self.folder or 'this model'} does not verify: no automaton is claimed for it")
        try:
            found = explain(self.bundle, self.task)
        except NotATransducer as exc:
            raise UsageError(f"{self.folder or 'this model'} is proven, but not a column transducer: {exc}") from None
        return f"{found.machine.n_states} states: {found.statement}\n{found.table()}"

    def iterate(
        self,
        modes: Sequence[str] = ("one-shot", "external"),
        dial: Sequence[int] = (8,),
        samples: int = 50,
        retries: int = 3,
        seed: int = 1234,
    ) -> list[dict]:
        """The iteration lab (`numerate iterate`) on this model: for each mode and number of iterations, a row with
        the fraction of exact answers, of steps right first time and the proposals made (one-shot, looped, or the
        external propose-verify loop with the exact checker).

        >>> rows = numerate.load("models/iter-sum-step").iterate(modes=["external"], dial=[5], samples=5)
        >>> rows[0]["exact"], rows[0]["step_first_try"]
        (1.0, 1.0)
        """
        from numerate.iterate.lab import MODES, LabSettings, run_lab

        chosen = list(modes)
        for mode in chosen:
            MODES.get(mode)  # a clear error naming the modes, before any work
        settings = LabSettings(samples=samples, seed=seed, retries=retries)
        return run_lab(self.bundle, chosen, [int(k) for k in dial], settings, progress=False)

    def save(self, folder: str | Path) -> Path:
        """Write the model folder (weights and config.json) to `folder`, atomically."""
        from numerate.checkpoint import save_model

        folder = Path(folder)
        model = self.bundle.model
        dtype = next(model.parameters()).dtype
        model.float()  # folders hold float32 weights; a certificate says which precision runs them
        try:
            save_model(folder, self.bundle, dict(self.bundle.meta))
        finally:
            model.to(dtype)
        return folder


class Procedure:
    """A procedure folder (procedure.yaml naming proven step models; `models/mul`, `models/gcd`, ...): a
    registered program that only routes digits between its step models (numerate/procedures)."""

    def __init__(self, loaded, folder: Path):
        self.loaded, self.folder = loaded, folder

    @property
    def task(self) -> str:
        return self.loaded.procedure.name

    def __repr__(self) -> str:
        return f"<numerate.Procedure {self.task} from {self.folder}>"

    def solve(self, problems: Iterable, batch_size: int = 256) -> list:
        """The answer to each problem (a line such as "36*4" or "462,1071", or an already parsed problem), every
        digit written by a step model.

        >>> numerate.load("models/mul").solve(["36*4"])
        [144]
        >>> numerate.load("models/gcd").solve(["462,1071"])
        [21]
        """
        from numerate.procedures.folder import solve

        parsed = []
        for p in problems:
            if isinstance(p, str):
                try:
                    p = self.loaded.procedure.parse(p)
                except ValueError as e:
                    raise UsageError(f"{p!r}: {e}") from None
            parsed.append(p)
        answers, _ = solve(self.loaded, parsed, batch_size=batch_size)
        return answers

    def verify(self, precision: str = "float64") -> dict[str, Certificate]:
        """Each step's certificate; the procedure's answers are proven when every one is (docs/verification.md)."""
        m = self.loaded
        return {name: Model(bundle, m.step_dirs[name]).verify(precision) for name, bundle in m.bundles.items()}


def load(path: str | Path, device: str = "cpu") -> Model | Procedure:
    """A model folder (`models/add-proof`, a run folder) as a Model, or a procedure folder as a Procedure.

    >>> numerate.load("models/add-proof")
    <numerate.Model addition from models/add-proof>
    """
    from numerate.checkpoint import load_certified
    from numerate.procedures.folder import is_procedure
    from numerate.procedures.folder import load as load_procedure

    if is_procedure(path):
        return Procedure(load_procedure(path, device=device), Path(path))
    return Model(load_certified(path, device=device), Path(path))


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
    quiet: bool = True,
    callbacks: Sequence = (),
    resume: bool = False,
    **overrides,
) -> Model:
    """Train a preset (`numerate.presets()`) or YAML config, with config overrides as keyword arguments
    (`train__max_steps=300` or `**{"train.max_steps": 300}`), and return the trained model. `until_proven` stops
    at the first evaluation where the model is proven (the certificate is written into `out`).

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


def iterate(model: str | Path | Model, **settings) -> list[dict]:
    """`numerate.load(model).iterate(**settings)`: the iteration lab on a model folder."""
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
    from numerate.config import PRESETS_DIR

    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


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
    if isinstance(lm, Model):
        from numerate.lm.numerate_model import NumerateModel

        return NumerateModel(str(lm.path), device=device)
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
