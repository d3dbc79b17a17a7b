"""Any server that speaks the OpenAI-compatible HTTP API: vLLM, llama.cpp's server, hosted APIs.

Requests are greedy (temperature 0) unless told otherwise and run `concurrency` at a time. A timeout, a dropped
connection, HTTP 429 or a 5xx is retried up to `retries` times with exponential backoff (a numeric Retry-After
is honoured, up to 30 s); any other HTTP error (a bad key, an unknown model) is not. A body that is not the API's
JSON counts as a failed request, never as an answer. Successful responses go to the cache (when given), so a rerun
sends nothing.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from numerate.errors import UsageError
from numerate.lm.base import Completion, LanguageModel, Request
from numerate.lm.cache import ResponseCache, request_key

RETRYABLE = {408, 409, 429}  # and every 5xx


def pause(seconds: float) -> None:
    """Backoff between retries (one name, so tests can skip the waiting)."""
    time.sleep(seconds)


class OpenAICompatible(LanguageModel):
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        chat: bool = False,
        max_tokens: int = 64,
        temperature: float = 0.0,
        timeout: float = 60.0,
        retries: int = 3,
        concurrency: int = 4,
        backoff: float = 1.0,
        cache: ResponseCache | None = None,
        give_up_after: int = 20,
    ):
        if not base_url or not base_url.startswith(("http://", "https://")):
            raise UsageError(f"the base URL must start with http:// or https://, got '{base_url}'")
        if not model:
            raise UsageError("name the model the server should run (--model NAME, or OPENAI_MODEL)")
        for what, value, lowest in (
            ("timeout", timeout, 1e-3),
            ("concurrency", concurrency, 1),
            ("retries", retries, 0),
        ):
            if value < lowest:
                raise UsageError(f"{what} must be >= {lowest}, got {value}")
        try:
            import httpx
        except ImportError:
            raise UsageError("the OpenAI-compatible adapter needs httpx: pip install 'numerate[lm]'") from None
        self.httpx = httpx
        self.name, self.chat = model, chat
        self.url = base_url.rstrip("/") + ("/chat/completions" if chat else "/completions")
        self.max_tokens, self.temperature = max_tokens, temperature
        self.timeout, self.retries, self.concurrency, self.backoff = timeout, retries, concurrency, backoff
        self.cache = cache
        # After this many failed requests in a row (server down, bad key, unknown model) the rest are not sent:
        # they fail at once with the last reason, instead of each waiting out its retries.
        self.give_up_after, self.failures_in_a_row, self.last_error = give_up_after, 0, None
        self.lock = threading.Lock()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(headers=headers, timeout=timeout)

    def describe(self) -> dict:
        return {
            "adapter": "openai",
            "url": self.url,
            "model": self.name,
            "chat": self.chat,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "timeout_s": self.timeout,
            "retries": self.retries,
            "concurrency": self.concurrency,
        }

    def body(self, prompt, max_tokens: int | None = None) -> dict:
        body = {"model": self.name, "max_tokens": max_tokens or self.max_tokens, "temperature": self.temperature}
        if self.chat:
            if isinstance(prompt, str):
                prompt = [{"role": "user", "content": prompt}]
            body["messages"] = prompt
        else:
            if not isinstance(prompt, str):
                raise UsageError("a completions endpoint takes a prompt string, not chat messages (use --chat)")
            body.update(prompt=prompt, stop=["\n"])  # one line: the k-shot pattern would go on with more problems
        return body

    def complete(self, requests: list[Request], progress=None) -> list[Completion]:
        out: list[Completion | None] = [None] * len(requests)
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = {pool.submit(self.one, r.prompt, r.max_tokens): i for i, r in enumerate(requests)}
            for future in as_completed(futures):
                out[futures[future]] = future.result()
                if progress:
                    progress(1)
        return out

    def one(self, prompt, max_tokens: int | None = None) -> Completion:
        body = self.body(prompt, max_tokens)
        key = request_key(self.url, body)
        if self.cache is not None and (text := self.cache.get(key)) is not None:
            return Completion(text, cached=True, attempts=0)
        if self.give_up_after and self.failures_in_a_row >= self.give_up_after:
            why = f"not sent: the last {self.failures_in_a_row} requests failed ({self.last_error})"
            return Completion(None, error=why, attempts=0)
        completion = self.send(body, key)
        with self.lock:
            if completion.text is None:
                self.failures_in_a_row += 1
                self.last_error = completion.error
            else:
                self.failures_in_a_row = 0
        return completion

    def send(self, body: dict, key: str) -> Completion:
        t0, error, retry_after = time.perf_counter(), None, None
        for attempt in range(self.retries + 1):
            if attempt:
                pause(min(30.0, retry_after) if retry_after is not None else self.backoff * 2 ** (attempt - 1))
            retry_after = None
            try:
                response = self.client.post(self.url, json=body)
            except self.httpx.TimeoutException:
                error = f"timed out after {self.timeout:g} s"
                continue
            except self.httpx.TransportError as exc:
                error = f"connection failed: {exc or type(exc).__name__}"
                continue
            if response.status_code == 200:
                text, problem = self.read(response)
                seconds = time.perf_counter() - t0
                if text is None:
                    return Completion(None, error=problem, seconds=seconds, attempts=attempt + 1)
                if self.cache is not None:
                    self.cache.put(key, text)
                return Completion(text, seconds=seconds, attempts=attempt + 1)
            error = f"HTTP {response.status_code}: {response.text[:200].strip()}"
            if response.status_code not in RETRYABLE and response.status_code < 500:
                return Completion(None, error=error, seconds=time.perf_counter() - t0, attempts=attempt + 1)
            header = response.headers.get("retry-after", "")
            if header.replace(".", "", 1).isdigit():
                retry_after = float(header)
        return Completion(None, error=error, seconds=time.perf_counter() - t0, attempts=self.retries + 1)

    def read(self, response) -> tuple[str | None, str | None]:
        """The text of the first choice, or (None, why) for a body that is not the API's JSON."""
        try:
            data = response.json()
            choice = data["choices"][0]
            text = choice["message"]["content"] if self.chat else choice["text"]
        except (ValueError, KeyError, IndexError, TypeError):
            return None, f"malformed response body: {response.text[:200].strip()!r}"
        if not isinstance(text, str):
            return None, f"malformed response: the text is {type(text).__name__}, not a string"
        return text, None

    def close(self) -> None:
        self.client.close()
        if self.cache is not None:
            self.cache.close()
