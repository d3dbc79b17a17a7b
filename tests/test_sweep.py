"""The sweep runner: local threads and Ray run the same units to the same results; finished units are skipped, a
failing unit is reported with its log and does not stop the others, a unit whose worker is killed is run again."""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from numerate.cli import main
from numerate.sweep import Engine, Unit, run_units

TINY = Path(__file__).parent / "data" / "tiny.yaml"


# Unit functions. Ray workers receive them by value (this test module is not importable there).
def square(x, log):
    Path(log).write_text(f"squaring {x}\n")
    return x * x


def broken(log):
    Path(log).write_text("loading data\nsomething went wrong on line 7\n")
    raise RuntimeError("the unit failed on purpose")


def dies_once(marker, value):
    """Kills its own worker process the first time it runs, as a lost node or an OOM kill would."""
    if not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return value


def always_dies():
    os.kill(os.getpid(), signal.SIGKILL)


def units_of(tmp_path, n=3, extra=()):
    return [Unit(f"sq{i}", square, (i, tmp_path / f"sq{i}.log"), log=tmp_path / f"sq{i}.log") for i in range(n)] + list(
        extra
    )


def test_local_units_run_a_failure_is_reported_with_its_log_and_the_rest_finish(tmp_path):
    bad = Unit("bad", broken, (tmp_path / "bad.log",), log=tmp_path / "bad.log")
    result = run_units(units_of(tmp_path, extra=[bad]), Engine(jobs=2), progress=False)
    assert result.results == {"sq0": 0, "sq1": 1, "sq2": 4}
    [failure] = result.failed
    assert failure.name == "bad" and "the unit failed on purpose" in failure.error
    assert "something went wrong on line 7" in failure.tail and "line 7" in str(failure)
    assert json.loads((tmp_path / "bad.log.unit.json").read_text())["state"] == "failed"


def test_done_units_are_skipped_and_names_must_be_unique(tmp_path):
    (tmp_path / "done").write_text("")
    done = Unit("done", broken, (tmp_path / "x.log",), done=tmp_path / "done")
    result = run_units(units_of(tmp_path, n=1, extra=[done]), Engine(jobs=1), progress=False)
    assert result.skipped == ["done"] and not result.failed and result.results == {"sq0": 0}
    with pytest.raises(ValueError, match="unique"):
        run_units(units_of(tmp_path, n=1) * 2, progress=False)


# ---------------------------------------------------------------- Ray: one local cluster of 2 CPUs for the module


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray") if not os.environ.get("NUMERATE_REQUIRE_RAY") else __import__("ray")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_gives_what_local_threads_give_and_reports_a_failure(tmp_path, ray_cluster):
    bad = Unit("bad", broken, (tmp_path / "bad.log",), log=tmp_path / "bad.log")
    local = run_units(units_of(tmp_path / "a", extra=[]), Engine(jobs=2), progress=False)
    (tmp_path / "b").mkdir()
    remote = run_units(units_of(tmp_path / "b", extra=[bad]), Engine(jobs=2, ray="local"), progress=False)
    assert remote.results == local.results == {"sq0": 0, "sq1": 1, "sq2": 4}
    [failure] = remote.failed
    assert failure.name == "bad" and "line 7" in failure.tail
    assert remote.attempts["sq1"] == 1  # a unit's own error is not re-run


@pytest.mark.slow
def test_ray_reruns_a_unit_whose_worker_was_killed(tmp_path, ray_cluster):
    unit = Unit("flaky", dies_once, (tmp_path / "marker", 42), log=tmp_path / "flaky.log")
    result = run_units([unit], Engine(ray="local", retries=2), progress=False)
    assert result.results == {"flaky": 42} and not result.failed
    assert result.attempts["flaky"] == 2


@pytest.mark.slow
def test_ray_reports_a_unit_whose_worker_keeps_dying_and_finishes_the_others(tmp_path, ray_cluster):
    doomed = Unit("doomed", always_dies, log=tmp_path / "doomed.log")
    result = run_units(units_of(tmp_path, n=2, extra=[doomed]), Engine(ray="local", retries=1), progress=False)
    assert result.results == {"sq0": 0, "sq1": 1}
    [failure] = result.failed
    assert failure.name == "doomed" and "Error" in failure.error
    assert result.attempts["doomed"] == 2  # the first run and one retry


def write_spec(tmp_path, steps=3, seeds=(0, 1)):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        json.dumps(
            {
                "base": str(TINY),
                "seeds": list(seeds),
                "set": [f"train.max_steps={steps}", "train.ckpt_every=5", "train.eval_every=5"],
                "eval": {"lengths": "1-5", "samples": 8},
                "variants": {"learned": ["model.pos=learned"], "2d": []},
            }
        )
    )
    return spec


@pytest.mark.slow
def test_compare_on_ray_gives_the_table_of_local_jobs_though_a_worker_is_killed(tmp_path, ray_cluster):
    """`compare --ray` against `compare --jobs 2` on the same spec. During the Ray sweep, SIGKILL the worker that
    drives one training once that run's first checkpoint exists: its training child dies with it, Ray runs the
    unit again, the run resumes from its checkpoint, and every row is the one of the undisturbed sweep."""
    spec = write_spec(tmp_path, steps=150)  # ~1 s of training after the first checkpoint: the kill lands in it
    undisturbed = tmp_path / "undisturbed"
    assert main(["compare", str(spec), "--out", str(undisturbed), "--jobs", "2"]) == 0

    out = tmp_path / "killed"
    victim = out / "2d" / "s1"
    state = out / "2d" / "s1.log.unit.json"
    killed = {}

    def kill_when_checkpointed():
        deadline = time.time() + 300
        while time.time() < deadline and not (victim / "train_state.pt").exists():
            time.sleep(0.01)
        pid = json.loads(state.read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        killed["pid"] = pid

    watcher = threading.Thread(target=kill_when_checkpointed)
    watcher.start()
    code = main(["compare", str(spec), "--out", str(out), "--ray"])
    watcher.join()
    assert code == 0 and killed["pid"]
    assert json.loads(state.read_text())["attempt"] == 2
    a, b = (json.loads((d / "results.json").read_text()) for d in (undisturbed, out))
    assert a["rows"] == b["rows"] and a["summary"] == b["summary"]


@pytest.mark.slow
def test_compare_reports_a_failing_run_and_tables_the_rest(tmp_path, capsys):
    spec = write_spec(tmp_path, seeds=(0,))
    out = tmp_path / "cmp"
    # A file where a run folder must go: that run fails, the other one finishes.
    (out / "2d").mkdir(parents=True)
    (out / "2d" / "s0").write_text("not a folder")
    assert main(["compare", str(spec), "--out", str(out), "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert "FAILED 2d/s0" in err and "1 of 2 runs failed" in err and "is a file, not a folder" in err
    assert "Partial**: 1 of 2" in (out / "results.md").read_text()
    (out / "2d" / "s0").unlink()
    assert main(["compare", str(spec), "--out", str(out), "--jobs", "2"]) == 0  # the same command retries it
    assert "Partial" not in (out / "results.md").read_text()


def test_ray_without_a_reachable_cluster_is_a_usage_error(tmp_path):
    pytest.importorskip("ray")
    import subprocess

    spec = write_spec(tmp_path)
    cmd = [sys.executable, "-m", "numerate", "compare", str(spec), "--out", str(tmp_path / "x"), "--ray", "127.0.0.1:1"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "cannot reach the Ray cluster at 127.0.0.1:1" in done.stderr
    assert "Traceback" not in done.stderr


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"  # a zombie has died
    except (FileNotFoundError, IndexError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")
def test_a_child_started_by_start_child_dies_when_its_parent_is_killed(tmp_path):
    """What keeps a killed Ray worker's training from running on beside the unit's re-run."""
    import subprocess

    pidfile = tmp_path / "child.pid"
    child = (
        "from numerate.procs import die_with_parent; import os, time; die_with_parent(); "
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(120)"
    )
    parent = (
        "from numerate.procs import start_child; import sys, time; "
        f"start_child([sys.executable, '-c', {child!r}]); time.sleep(120)"
    )
    proc = subprocess.Popen([sys.executable, "-c", parent])
    deadline = time.time() + 60
    while not (pidfile.exists() and pidfile.read_text()) and time.time() < deadline:
        time.sleep(0.05)
    pid = int(pidfile.read_text())
    assert _alive(pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 30
    while _alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the child outlived its killed parent")
