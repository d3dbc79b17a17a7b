"""Child processes that die with their parent: `numerate demo` and `compare` train in child processes, and a
SIGTERM or Ctrl-C of the parent must stop them too (each child writes its checkpoint on the way out)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading

_children: set[subprocess.Popen] = set()
_lock = threading.Lock()
_stopping = threading.Event()  # set once children are being stopped: start no new ones


def run_child(cmd: list[str], **kwargs) -> int:
    """subprocess.run(cmd).returncode, with the child registered so `stopping_children` can stop it."""
    proc = start_child(cmd, **kwargs)
    try:
        return proc.wait()
    finally:
        with _lock:
            _children.discard(proc)


PARENT_ENV = "NUMERATE_PARENT_PID"


def start_child(cmd: list[str], **kwargs) -> subprocess.Popen:
    # The child learns who its parent is, so that it dies with it (`die_with_parent`): a sweep unit whose Ray
    # worker is killed must not leave its training running beside the re-run.
    kwargs["env"] = {**(kwargs.get("env") or os.environ), PARENT_ENV: str(os.getpid())}
    with _lock:
        if _stopping.is_set():
            raise KeyboardInterrupt
        proc = subprocess.Popen(cmd, **kwargs)
        _children.add(proc)
    return proc


def terminate_children(timeout: float = 30) -> None:
    """SIGTERM every registered child that still runs, then wait for it (SIGKILL after `timeout` seconds)."""
    with _lock:
        _stopping.set()
        alive = [p for p in _children if p.poll() is None]
    for proc in alive:
        proc.terminate()
    for proc in alive:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def stopping_children():
    """While inside: SIGTERM behaves like Ctrl-C (KeyboardInterrupt), and leaving by any exception stops the
    children first."""

    def to_interrupt(signum, frame):
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGTERM, to_interrupt) if main else None
    _stopping.clear()
    try:
        yield
    except BaseException:
        terminate_children()
        raise
    finally:
        if main:
            signal.signal(signal.SIGTERM, old)


def die_with_parent() -> None:
    """In a child started by `start_child` (on Linux): be killed when the parent dies, however it dies. Checking the
    parent after asking closes the race with a parent that died before the request."""
    parent = os.environ.pop(PARENT_ENV, None)
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG; SIGKILL: the re-run resumes from the last checkpoint
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):
        os._exit(137)
