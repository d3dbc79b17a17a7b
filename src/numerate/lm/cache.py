"""A response cache in one SQLite file: the same request to the same endpoint and model costs nothing twice.

Only successful responses are stored, keyed by the SHA-256 of the endpoint URL and the exact request body (model,
prompt or messages, sampling settings); the API key is never part of the key or the file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path


def request_key(url: str, body: dict) -> str:
    return hashlib.sha256(json.dumps([url, body], sort_keys=True).encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        with self.lock:
            self.db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, text TEXT NOT NULL)")
            self.db.commit()

    def get(self, key: str) -> str | None:
        with self.lock:
            row = self.db.execute("SELECT text FROM responses WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, text: str) -> None:
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO responses (key, text) VALUES (?, ?)", (key, text))
            self.db.commit()

    def __len__(self) -> int:
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self.lock:
            self.db.close()
