"""Tasks: what a problem is and its exact answer. A task never knows how problems are written or tokenized."""

from numerate.registry import Registry

TASKS: Registry = Registry("task")

from numerate.tasks import addition, gcd, knapsack, running_sum  # noqa: E402,F401  (register themselves)
from numerate.tasks.base import Problem, Task  # noqa: E402,F401


def get_task(name: str) -> "Task":
    return TASKS.get(name)()
