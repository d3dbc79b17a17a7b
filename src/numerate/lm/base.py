"""The interface every subject of a probe meets: requests in, completions out, in the same order."""

from __future__ import annotations

from dataclasses import dataclass

from numerate.tasks.base import Problem


@dataclass
class Request:
    """One question: the problem (for subjects that read problems, like numerate's own models) and the prompt a
    language model reads — a string for completion endpoints, a list of {"role", "content"} messages for chat."""

    problem: Problem
    prompt: str | list[dict]
    max_tokens: int | None = None  # enough for the longest right answer; None: the subject's default


@dataclass
class Completion:
    """What came back: the raw text, or `error` (why no text came: HTTP status, timeout, malformed body...)."""

    text: str | None
    error: str | None = None
    seconds: float = 0.0
    cached: bool = False
    attempts: int = 1
    seen: str | None = None  # the input the subject actually read, where it is not the prompt (numerate models)


class LanguageModel:
    """Answers requests. `chat` says whether it wants chat messages or a plain prompt string."""

    name: str = "model"
    chat: bool = False
    reads_text: bool = True  # False: answers the problem itself (prompt interventions and k-shot do not apply)

    def complete(self, requests: list[Request], progress=None) -> list[Completion]:
        """One completion per request, in order; never raises for a single request's failure. `progress` (if
        given) is called with the number of requests finished since the last call."""
        raise NotImplementedError

    def describe(self) -> dict:
        """Settings worth recording beside the results (never secrets)."""
        return {"name": self.name, "chat": self.chat}

    def close(self) -> None:
        pass
