"""Tasks: what a problem is and its exact answer. A task never knows how problems are written or tokenized."""

from numerate.tasks.base import TASKS, Problem, Task
from numerate.tasks import addition, gcd, knapsack, running_sum  # noqa: E402,F401,I001  (register themselves)

__all__ = ["TASKS", "Problem", "Task", "get_task"]


def get_task(name: str) -> Task:
    return TASKS.get(name)()
