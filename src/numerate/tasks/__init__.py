"""Tasks: what a problem is and its exact answer. A task never knows how problems are written or tokenized."""

from numerate.registry import import_submodules
from numerate.tasks.base import TASKS, Problem, Task

import_submodules(__name__, __path__)  # every module here registers its tasks

__all__ = ["TASKS", "Problem", "Task", "get_task"]


def get_task(name: str) -> Task:
    return TASKS.get(name)()
