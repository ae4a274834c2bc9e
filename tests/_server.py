"""A private ``streamlit run app/main.py`` for tests and benches that measure the server process itself.

The shared ``streamlit_server`` fixture (tests/conftest.py) is one server for the whole
session; memory and concurrency measurements need a fresh process they can watch.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_process(db: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """Start the app on a free loopback port; yields (base URL, server pid)."""
    port = free_port()
    full_env = {**os.environ, "RISKCORE_DB": str(db), "PYTHONPATH": str(ROOT), **(env or {})}
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=full_env, stdout=fh, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start: {log.read_text()[-2000:]}")
                time.sleep(0.3)
            yield url, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


#: the line app/warmup.py prints to the server log when its background warm-up has finished
WARMUP_DONE = "riskcore warm-up done"


def wait_for_warmup(log: Path, pid: int | None = None, timeout: float = 300.0) -> str:
    """Block until the server log says the warm-up finished (a state, polled); returns that line.

    A measurement of the server process (memory, speed) must start after it: the warm-up imports
    torch and builds every page's first result in the background once the first session has run.
    """
    deadline = time.monotonic() + timeout
    while WARMUP_DONE not in (text := log.read_text()):
        if (pid is not None and not _alive(pid)) or time.monotonic() > deadline:
            raise RuntimeError(f"warm-up did not finish: {text[-2000:]}")
        time.sleep(0.2)
    return next(ln for ln in text.splitlines() if WARMUP_DONE in ln).strip()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def wait_idle_js() -> str:
    """JS predicate: Streamlit has finished its script run."""
    return ("() => !!document.querySelector('[data-testid=\"stAppViewContainer\"]') && "
            "(!document.querySelector('[data-testid=\"stStatusWidget\"]') || "
            "!document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running'))")
