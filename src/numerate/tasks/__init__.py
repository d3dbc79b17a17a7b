"""Tasks: what a problem is and its exact answer. A task never knows how problems are written or tokenized."""

from numerate.registry import callable_package, import_submodules
from numerate.tasks.base import TASKS, Problem, Task

import_submodules(__name__, __path__)  # every module here registers its tasks
callable_package(__name__, "numerate.api:tasks")  # numerate.tasks() lists them (numerate/api.py)

__all__ = ["TASKS", "Problem", "Task", "get_task"]


def get_task(name: str) -> Task:
    return TASKS.get(name)()
