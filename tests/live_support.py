"""Start `python -m mock_cio` as a real subprocess for the live-server tests, and read its startup line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP = re.compile(
    r"mock Customer\.io listening on (?P<url>https?://[^ ]+?)(?: \(TLS; trust the CA file (?P<ca>[^)]+)\))?, journal"
)
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    ca: Path | None
    line: str
    db: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def launch(
    folder: Path, *args: str, db: Path | None = None, timeout: float = 20, serve: bool = False
) -> Server:
    """Start the server on a free port with its journal in `folder` (or `db`); wait for its line.
    `serve=True` starts `cio-sandbox serve` (the live app) instead of `python -m mock_cio`."""
    db = db or folder / "mock.db"
    program = ["sandbox", "serve"] if serve else ["mock_cio"]
    command = [sys.executable, "-m", *program, "--port", "0", "--db", str(db),
               "--tls-dir", str(folder / "tls"), *args]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    if not line or not line[0]:
        process.kill()
        _, err = process.communicate(timeout=5)
        raise RuntimeError(f"the server did not start: {err}")
    match = STARTUP.match(line[0].strip())
    if match is None:
        process.kill()
        raise RuntimeError(f"unexpected startup line: {line[0]!r}")
    ca = match.group("ca")
    return Server(process, match.group("url"), Path(ca) if ca else None, line[0].strip(), db)


@contextmanager
def start_server(folder: Path, *args: str, db: Path | None = None, serve: bool = False) -> Iterator[Server]:
    server = launch(folder, *args, db=db, serve=serve)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait(timeout=10)
        for stream in (server.process.stdout, server.process.stderr):
            if stream is not None:
                stream.close()
