"""A fake OpenAI-compatible server on 127.0.0.1 that answers by a rule, for tests without a network.

`solve(text) -> str` turns the question (the last line of a completion prompt, or the last user message of a chat)
into the right answer's text; the rule then decides what is sent:

    right      the answer
    off-by-one the answer's last digit changed (the integer plus one, written the same way)
    malformed  every second request: prose around the answer ("The answer is 579."), else the answer
    slow       the answer after `delay` seconds
    flaky      HTTP 500 on the first `fail_first` requests of each prompt, then the answer
    error500   always HTTP 500
    garbage    HTTP 200 with a body that is not JSON
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    def __init__(self, solve, rule: str = "right", delay: float = 0.0, fail_first: int = 1, key: str | None = None):
        self.solve, self.rule, self.delay, self.fail_first, self.key = solve, rule, delay, fail_first, key
        self.requests: list[dict] = []
        self.in_flight = self.most_in_flight = 0
        self.per_prompt: Counter = Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                with server.lock:
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    self.answer()
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def answer(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                    n = len(server.requests)
                if server.key and self.headers.get("Authorization") != f"Bearer {server.key}":
                    return self.reply(401, {"error": {"message": "bad key"}})
                chat = self.path.endswith("/chat/completions")
                if not chat and not self.path.endswith("/completions"):
                    return self.reply(404, {"error": "no such endpoint"})
                question = body["messages"][-1]["content"] if chat else body["prompt"].split("\n")[-1]
                key = json.dumps(body, sort_keys=True)
                with server.lock:
                    server.per_prompt[key] += 1
                    seen = server.per_prompt[key]
                text = server.solve(question)
                rule = server.rule
                if rule == "error500" or (rule == "flaky" and seen <= server.fail_first):
                    return self.reply(500, {"error": "internal"})
                if rule == "garbage":
                    return self.raw(200, b"<html>not json</html>")
                if rule == "slow":
                    time.sleep(server.delay)
                if rule == "off-by-one":
                    text = server.off_by_one(text)
                if rule == "malformed" and n % 2 == 0:
                    text = f"The answer is {text}."
                choice = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
                self.reply(200, {"choices": [choice]})

            def reply(self, status, data):
                self.raw(status, json.dumps(data).encode())

            def raw(self, status, payload: bytes):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                try:
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    off_by_one = staticmethod(lambda text: text)  # replaced per test where the representation matters

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def arithmetic_solver(rep_name: str = "plain", symbol: str = "+"):
    """Reads "<a><op><b>...=" written in a representation and writes the exact result in it."""
    from numerate.lm.representations import REPRESENTATIONS

    rep = REPRESENTATIONS.get(rep_name)
    op = f"{rep.operator_spacing}{symbol}{rep.operator_spacing}"

    def value(question: str) -> int:
        operands = [rep.parse(part) for part in question.rstrip("=").rstrip().split(op)]
        result = operands[0]
        for x in operands[1:]:
            result = result + x if symbol == "+" else result - x if symbol == "-" else result * x
        return result

    def solve(question: str) -> str:
        return rep.render(value(question))

    def off_by_one(text: str) -> str:
        return rep.render(rep.parse(text) + 1)

    return solve, off_by_one
