"""Name -> object registries, so configs refer to tasks, formats and positional schemes by a plain string."""

from __future__ import annotations

import difflib
from typing import Callable, Generic, TypeVar

from numerate.errors import UsageError

T = TypeVar("T")


def did_you_mean(name: str, options) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" — did you mean '{close[0]}'?" if close else ""


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._docs: dict[str, str] = {}

    def register(self, name: str, doc: str = "") -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._items[name] = obj
            self._docs[name] = doc or (getattr(obj, "__doc__", "") or "").strip().split("\n")[0]
            return obj

        return add

    def get(self, name: str) -> T:
        if name not in self._items:
            raise UsageError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, self._items)} "
                f"(known: {', '.join(sorted(self._items))})"
            )
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def doc(self, name: str) -> str:
        return self._docs[name]


def import_submodules(package: str, path) -> None:
    """Import every module of a package, so each registers itself: a new task, format, positional scheme or
    proposer is one new file, with no list to edit."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{package}.{info.name}")


def callable_package(name: str, target: str) -> None:
    """Make the package `name` callable as `target` ("module:function"), resolved when first called.

    `numerate.tasks()` and `numerate.train(...)` are the Python API (numerate/api.py), but numerate.tasks and
    numerate.train are also subpackages, and importing a subpackage sets that attribute on `numerate` to the
    module. A module whose class has __call__ is both: `numerate.tasks.TASKS` still works, and `numerate.tasks()`
    lists the tasks. The target is named, not imported, so the library below never imports the API above it."""
    import importlib
    import sys
    import types

    module_name, function = target.split(":")

    class _Package(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(importlib.import_module(module_name), function)(*args, **kwargs)

    sys.modules[name].__class__ = _Package
