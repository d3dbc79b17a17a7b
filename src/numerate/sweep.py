"""One runner for sweeps. Every training of a sweep (with its evaluation) is a `Unit` of work with the resources it
needs; `run_units` runs them N at a time in this process (`--jobs N`, one thread each driving a child process), or
as Ray tasks (`--ray` for a local cluster, `--ray ADDRESS` for an existing one). Ray is an optional extra
(`pip install 'numerate[ray]'`), imported only here and only when asked for.

The contract that makes a sweep resumable, on either engine:
  - a unit whose `done` file exists is skipped, so re-running an interrupted sweep trains only what is missing;
  - a unit is idempotent: run again after a kill, it resumes its run folder (training checkpoints atomically and
    resumes to the same result), so Ray may re-run a unit whose worker or node died (`retries` times);
  - a unit that fails is reported with the tail of its log and does not stop the others.

On a cluster the run folders must be on storage every node sees, and numerate must be installed on every node:
Ray ships a unit as a reference to a module-level function and its arguments.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numerate.errors import UsageError


@dataclass(frozen=True)
class Unit:
    """One piece of a sweep: `fn(*args)` writes its output under a folder; its text output goes to `log`."""

    name: str  # shown in progress and failure reports, e.g. "nope/s1"
    fn: Callable[..., Any]  # module-level, so Ray can ship it by reference
    args: tuple = ()
    log: Path | None = None  # the unit's log; its tail is quoted when the unit fails
    done: Path | Callable[[], bool] | None = None  # a file that exists (or a test that is true) once finished
    cpus: int = 1
    gpus: float = 0.0


@dataclass
class Failure:
    name: str
    error: str
    log: Path | None
    tail: str  # the last lines of the log

    def __str__(self) -> str:
        where = (
            f"\n  log {self.log}:\n" + "\n".join("    " + line for line in self.tail.splitlines()) if self.log else ""
        )
        return f"{self.name}: {self.error}{where}"


@dataclass
class SweepResult:
    results: dict[str, Any] = field(default_factory=dict)  # unit name -> what fn returned
    skipped: list[str] = field(default_factory=list)  # done before this sweep started
    failed: list[Failure] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)  # unit name -> times it was started (Ray re-runs)


@dataclass(frozen=True)
class Engine:
    """Where units run: `jobs` at once in this process's threads, or on Ray (`ray` = "local" or an address)."""

    jobs: int = 1
    ray: str | None = None
    retries: int = 2  # Ray: re-runs of a unit whose worker died (a unit's own error is never re-run)

    def describe(self) -> str:
        if self.ray is None:
            return f"{self.jobs} at a time in this process"
        return f"Ray ({'a local cluster of ' + str(self.jobs) + ' CPUs' if self.ray == 'local' else self.ray})"


def log_tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not Path(log).is_file():
        return ""
    with open(log, "rb") as f:
        f.seek(max(0, os.path.getsize(log) - 8192))
        text = f.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def _state_path(unit: Unit) -> Path | None:
    return Path(str(unit.log) + ".unit.json") if unit.log else None


def _record(unit: Unit, **state) -> None:
    """Where a unit runs (host, pid) and how often it was started, next to its log, for people watching a sweep."""
    path = _state_path(unit)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(path.read_text()) if path.is_file() else {}
    if state.get("state") == "running":
        state["attempt"] = old.get("attempt", 0) + 1
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({**old, **state, "time": time.time()}))
    os.replace(tmp, path)


def attempts_of(unit: Unit) -> int:
    path = _state_path(unit)
    return json.loads(path.read_text()).get("attempt", 0) if path and path.is_file() else 0


def _call(unit: Unit, threads: int | None = None) -> tuple[bool, Any]:
    """Run one unit here: (True, its result) or (False, the error's text)."""
    _record(unit, state="running", host=socket.gethostname(), pid=os.getpid())
    if threads:
        import torch

        torch.set_num_threads(threads)
    try:
        value = unit.fn(*unit.args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - any failure of one unit is reported, the others go on
        _record(unit, state="failed", error=str(exc))
        return False, f"{type(exc).__name__}: {exc}"
    _record(unit, state="done")
    return True, value


def run_units(units: Sequence[Unit], engine: Engine = Engine(), progress: bool = True) -> SweepResult:
    """Run every unit not yet done on `engine`; return what each returned, and which failed (with log tails)."""
    names = [u.name for u in units]
    if len(set(names)) != len(names):
        raise ValueError(f"unit names must be unique: {names}")
    result = SweepResult()
    todo = []
    for unit in units:
        if is_done(unit):
            result.skipped.append(unit.name)
        else:
            todo.append(unit)
    if todo:
        from tqdm.auto import tqdm

        with tqdm(total=len(todo), unit="unit", disable=not progress) as bar:
            run = _run_on_ray if engine.ray is not None else _run_locally
            for unit, ok, value in run(todo, engine):
                if ok:
                    result.results[unit.name] = value
                else:
                    result.failed.append(Failure(unit.name, value, unit.log, log_tail(unit.log)))
                bar.update(1)
    result.attempts = {u.name: attempts_of(u) for u in todo}
    return result


def is_done(unit: Unit) -> bool:
    if unit.done is None:
        return False
    return bool(unit.done()) if callable(unit.done) else Path(unit.done).exists()


def _run_locally(todo: list[Unit], engine: Engine):
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from numerate.procs import stopping_children

    if engine.jobs > 1:
        import torch

        torch.set_num_threads(1)  # each unit's in-process work (e.g. evaluation) runs in its own thread, one core
    # stopping_children is innermost: on Ctrl-C/SIGTERM it stops the training children before the pool waits.
    with ThreadPoolExecutor(engine.jobs) as pool, stopping_children():
        futures = {pool.submit(_call, unit): unit for unit in todo}
        for future in as_completed(futures):
            yield (futures[future], *future.result())


_ray_lock = threading.Lock()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Ray waits minutes on an address nobody answers at; a plain TCP connect tells at once."""
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UsageError(f"cannot reach the Ray cluster at {address}: {exc}") from None


def _ray_init(engine: Engine):
    try:
        import ray
    except ImportError:
        raise UsageError("--ray needs Ray: pip install 'numerate[ray]'") from None
    with _ray_lock:
        started = not ray.is_initialized()
        if started:
            quiet = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
            try:
                if engine.ray == "local":
                    # Ray lowers its workers' priority by 15 so that its own services stay responsive; here the
                    # workers are the sweep, and must not starve behind whatever else runs on the machine.
                    os.environ.setdefault("RAY_worker_niceness", "0")
                    ray.init(num_cpus=engine.jobs, object_store_memory=100 * 2**20, **quiet)
                else:
                    _check_reachable(engine.ray)
                    ray.init(address=engine.ray, **quiet)
            except UsageError:
                raise
            except Exception as exc:  # connection refused, bad address, version mismatch...
                raise UsageError(f"cannot start or reach the Ray cluster {engine.ray!r}: {exc}") from None
    return ray, started


def _ray_call(unit: Unit) -> tuple[bool, Any]:
    return _call(unit, threads=unit.cpus)


def _run_on_ray(todo: list[Unit], engine: Engine):
    ray, started = _ray_init(engine)
    remote = ray.remote(_ray_call)
    refs = {}
    for unit in todo:
        options = {"num_cpus": unit.cpus, "num_gpus": unit.gpus, "max_retries": engine.retries}
        refs[remote.options(**options).remote(unit)] = unit
    try:
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            unit = refs[ready[0]]
            try:
                ok, value = ray.get(ready[0])
            except ray.exceptions.RayError as exc:  # the worker (or its node) died more than `retries` times
                ok, value = False, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            yield unit, ok, value
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:  # a cluster this sweep started ends with it; one the caller started is left running
            ray.shutdown()
