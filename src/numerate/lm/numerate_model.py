"""A model trained here behind the language-model interface: it answers each request's problem in its own format.

Its prompt is fixed by training (reversed, padded digits and so on), so prompt interventions and worked examples do
not apply; the input it read is kept in `Completion.seen`. The answers are eval's answers: the same greedy decoding
on the same problems gives the same exact-match numbers.
"""

from __future__ import annotations

from numerate.bigint import to_str
from numerate.lm.base import Completion, LanguageModel, Request


class NumerateModel(LanguageModel):
    reads_text = False

    def __init__(self, folder, device: str = "auto", batch_size: int = 512):
        from numerate.checkpoint import load_model
        from numerate.devices import pick_device

        self.bundle = load_model(folder, device=pick_device(device))
        self.name, self.folder, self.batch_size = str(folder), str(folder), batch_size

    @classmethod
    def from_bundle(cls, bundle, name: str = "numerate model", batch_size: int = 512) -> "NumerateModel":
        """A model already loaded (`numerate.load(...)`), as it stands."""
        self = cls.__new__(cls)
        self.bundle, self.name, self.folder, self.batch_size = bundle, name, name, batch_size
        return self

    @property
    def task(self):
        return self.bundle.task

    def describe(self) -> dict:
        return {"adapter": "numerate", "folder": self.folder, "task": self.task.name}

    def complete(self, requests: list[Request], progress=None) -> list[Completion]:
        from numerate.capacity import fits
        from numerate.eval.answer import answer_problems

        out = [Completion(None, error="longer than the model can represent") for _ in requests]
        ok = [i for i, r in enumerate(requests) if fits(self.bundle, r.problem)]
        answers = answer_problems(self.bundle, [requests[i].problem for i in ok], self.batch_size)
        for i, a in zip(ok, answers):
            text = to_str(a.value) if isinstance(a.value, int) else a.text
            out[i] = Completion(text, seen=self.bundle.fmt.prompt(requests[i].problem))
        if progress:
            progress(len(requests))
        return out
