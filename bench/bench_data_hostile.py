"""CSV loader under hostile input (issue 17 item 3): seconds per MB, up to the upload limit.

Bound: any input up to ``MAX_FILE_BYTES`` is accepted or rejected within 2 s per started MB
(a file under 1 MB has 2 s). Each shape is built at about 1 MB, 8 MB and the upload limit;
the line prints the time, s/MB and the outcome. Reference, in the same run: a plain
``pandas.read_csv`` of the same bytes (what parsing alone costs; the loader also validates).
The case the issue measured (8,000 and 32,000 extra fields in the first data row, 3.2 s and
12.7 s before the fix) is printed first.

Run: ``nice -n 10 .venv/bin/python bench/bench_data_hostile.py [--quick]`` (``--quick``: 1 and 8 MB only).
"""

from __future__ import annotations

import io
import math
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskcore.data import MAX_COLUMNS, MAX_FILE_BYTES, load_prices  # noqa: E402
from riskcore.errors import InputError  # noqa: E402

MB = 2 ** 20


def rows(n: int) -> str:
    d = (np.datetime64("1990-01-01T00:00") + np.arange(n).astype("timedelta64[m]")).astype(str)
    p = 1 + np.arange(n) / n
    return "".join(f"{a},{b:.6f}\n" for a, b in zip(d, p, strict=True))


def fill(size: int, unit: str, head: str = "Date,Close\n") -> bytes:
    return (head + unit * max(1, (size - len(head)) // len(unit))).encode()


def shapes(size: int) -> dict[str, bytes]:
    n = size // 26  # rows of ~25 bytes: the file stays under the size, its last row is not cut off
    valid = rows(n)
    quoted = "".join(f'"{ln.replace(",", chr(34) + "," + chr(34))}"\n' for ln in valid.splitlines())
    return {
        "valid ISO minutes": ("Date,Close\n" + valid).encode(),
        "valid, every field quoted": ("Date,Close\n" + quoted).encode(),
        "bad number in the last row": ("Date,Close\n" + valid + "2200-01-01,=CMD()\n").encode(),
        "bad ISO date-time in the last row": ("Date,Close\n" + valid + "2021-13-45T99:00:00,1.0\n").encode(),
        "first data row with extra fields": ("Date,Close\n2024-01-01,1" + ",1" * (size // 2) + "\n"
                                             + rows(60)).encode(),
        "quoted first row with extra fields": ('Date,Close\n"2024-01-01",1' + ',"1"' * (size // 4) + "\n").encode(),
        "later row with extra fields": ("Date,Close\n" + rows(60) + "2024-01-01,1" + ",1" * (size // 2)).encode(),
        "header of 999 columns, 999-field rows": fill(size, ",".join(["1.5"] * 999) + "\n",
                                                      "Date,Close," + ",".join(f"c{k}" for k in range(997)) + "\n"),
        "one huge line": fill(size, "x"),
        "blank lines": fill(size, "\n"),
        "separators only": fill(size, ","),
        "quotes only": fill(size, '"'),
        "random printable bytes": bytes(np.random.default_rng(0).integers(32, 127, size, dtype=np.uint8)),
        "year 9999 dates": ("Date,Close\n" + valid.replace("1990", "9999")).encode(),
        "1e308 prices": ("Date,Close\n" + "".join(f"{ln.split(',')[0]},1e308\n" for ln in valid.splitlines())).encode(),
    }


def timed(raw: bytes) -> tuple[float, str]:
    t0 = time.perf_counter()
    try:
        s = load_prices(raw)
        out = f"accepted {len(s)} rows"
    except InputError as exc:
        out = "InputError: " + str(exc)[:70]
    return time.perf_counter() - t0, out


def reference(raw: bytes) -> float:
    """A bare ``read_csv`` of the bytes: every line as data, no header inference, no validation."""
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.read_csv(io.BytesIO(raw), dtype=str, engine="c", header=None, index_col=False)
    except Exception:  # noqa: BLE001 - only the time matters here
        pass
    return time.perf_counter() - t0


#: the loader before the fix (issue 17), for the issue's own cases
BEFORE = "8201447"


def loader_before() -> Any:
    """``load_prices`` of riskcore/data.py at commit :data:`BEFORE`, or None without git."""
    try:
        src = subprocess.run(["git", "show", f"{BEFORE}:riskcore/data.py"], capture_output=True, check=True,
                             cwd=Path(__file__).resolve().parents[1], timeout=30).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return None
    mod = types.ModuleType("riskcore_data_before")
    mod.__dict__["__file__"] = str(Path(__file__).resolve().parents[1] / "riskcore" / "data.py")
    sys.modules[mod.__name__] = mod  # dataclasses look their module up there
    exec(compile(src, "riskcore/data.py@" + BEFORE, "exec"), mod.__dict__)  # noqa: S102 - our own file from git
    return mod.load_prices


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"pandas {pd.__version__}; upload limit {MAX_FILE_BYTES / MB:.0f} MB; column limit {MAX_COLUMNS}")
    before = loader_before()
    for extra in (8_000, 32_000):
        raw = ("Date,Close\n2024-01-01,1.0" + ",1" * extra + "\n" + rows(60)).encode()
        dt, out = timed(raw)
        ref = ""
        if before is not None:
            t0 = time.perf_counter()
            try:
                before(raw)
            except InputError:
                pass
            old = time.perf_counter() - t0
            ref = f"| before the fix ({BEFORE}) {old:.2f} s, ratio {old / dt:.0f}x"
        print(f"issue case: {extra} extra fields, {len(raw) / 1024:.0f} KB: {dt:.3f} s {ref}  {out}")
    sizes = [MB, 8 * MB] + ([] if quick else [MAX_FILE_BYTES - MB])
    worst = 0.0
    for size in sizes:
        for name, raw in shapes(size).items():
            raw = raw[:MAX_FILE_BYTES]
            dt, out = timed(raw)
            budget = 2.0 * max(1, math.ceil(len(raw) / MB))
            worst = max(worst, dt / budget * 2.0)
            ref = reference(raw)
            verdict = "OK" if dt <= budget else f"OVER {budget:g} s"
            print(f"{name:<40s} {len(raw) / MB:6.1f} MB {dt:7.2f} s {dt / max(len(raw) / MB, 1):6.2f} s/MB | "
                  f"read_csv {ref:6.2f} s  {verdict:<8s} {out}")
    print(f"worst: {worst:.2f} s per started MB (bound 2)")


if __name__ == "__main__":
    main()
