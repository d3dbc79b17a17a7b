"""Language models behind one interface, so numerate's tests apply to any of them.

- ``base``: a Request (a problem and the prompt written for it) and a Completion (the raw text, or why none came);
- ``openai_api``: any server that speaks the OpenAI-compatible HTTP API (completions or chat), with retries,
  timeouts, a concurrency limit and a response cache (``cache``);
- ``hf``: a local Hugging Face causal LM (the optional ``transformers`` extra, imported only when used);
- ``numerate_model``: a model trained here, answering the same requests from their problems;
- ``representations`` and ``prompts``: how numbers and problems are written for a language model, and the strict
  reading of its replies.

Nothing here imports torch, httpx or transformers at import time.
"""
