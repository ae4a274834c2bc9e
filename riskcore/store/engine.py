"""Connection handling of the DuckDB store: one database instance per process and file.

Why
---
DuckDB's advice for Python is one connection per process and a cursor per thread. The
store used to open and close a connection per unit of work; with several Streamlit
sessions (each on its own thread) one thread could close the last connection while
another opened the same file, and DuckDB raised ``ResourceInUseException`` ("Unique file
handle conflict"). Here every :class:`~riskcore.store.Store` on a file shares one
:class:`Database` per process (:func:`database_for`), and every unit of work runs on its
own cursor of that database's root connection. Opening and closing the root connection
is serialised by the database's condition variable, so no thread ever opens while another
closes. Within the process, write units take turns (one write transaction at a time, a
few ms each) so read-modify-write units cannot race into constraint errors, while reads
run in parallel on their own cursors.

Sharing the file with another process
-------------------------------------
DuckDB lets one process at a time open a file read-write, so a process must not hold the
file for its whole life or a notebook could never write. Three rules:

* **Release when idle.** The root connection is closed once no unit of work has used it
  for ``linger`` seconds (0.5 s by default; a reaper thread does it), and reopened on the
  next use (about 15 ms). A burst of calls from one page reuses the open instance.
* **Retry with backoff on a conflict.** A process that finds the file locked sleeps
  5 ms, doubling to at most 50 ms (with jitter), until the store's ``timeout``; then it
  raises :class:`StoreBusyError`, naming the process that holds the file.
* **Take turns under load.** A waiting riskcore process touches ``<file>.wait``. A holder
  that sees a fresh ``.wait`` file (checked at most every 50 ms) and has held the file
  for at least ``MIN_HOLD_S`` stops starting units, closes when the running ones are done
  and stays away for up to ``YIELD_S`` (until the waiter removes the file), so two busy
  processes alternate instead of one starving. A process that does not follow the
  protocol (plain ``duckdb.connect``) is still waited for by the retry rule.

After a :class:`StoreBusyError` the database fails fast (a short try of ``FAIL_FAST_S``)
for ``FAIL_FAST_WINDOW_S`` seconds for callers whose timeout is no longer than the one that
just expired, so a page that makes ten calls to a file held elsewhere reports it once
within seconds instead of waiting ten timeouts; a more patient caller still waits.

Errors are classified by exception type and DuckDB's structured message prefix (the
text before the file name), never by a word anywhere in the text, which may contain the
path (``…/blockchain_desk/…`` contains "lock"):

* lock held by another process: ``IOException`` starting ``IO Error: Could not set lock
  on file`` → retried, then :class:`StoreBusyError`;
* ``ResourceInUseException`` (a same-process open/close race by code outside this module)
  and write-write ``TransactionException`` conflicts between threads → retried;
* a file that is not a DuckDB database (checked from its header before DuckDB sees it:
  SQLite files, text, random bytes; DuckDB itself rejects an empty one) →
  :class:`StoreCorruptError` (an :class:`~riskcore.errors.InputError`) at once;
* a truncated DuckDB file (too short for the blocks in use, checked on open) and
  a damaged one (short reads, checksum mismatches, serialisation or internal
  errors) → :class:`StoreCorruptError` at once, and the instance is dropped.

DuckDB's extension auto-install and auto-load are switched off on every instance: a
store never downloads code.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from riskcore.errors import InputError

__all__ = ["Database", "StoreBusyError", "StoreCorruptError", "StoreReadOnlyError", "database_for",
           "DatabaseError", "LINGER_S"]

T = TypeVar("T")

#: any error DuckDB raises (constraint violations and the like pass through the store as these)
DatabaseError = duckdb.Error

LINGER_S = 0.5          # close the file after this long without a unit of work
MIN_HOLD_S = 0.2        # a holder keeps the file at least this long before yielding to a waiter
YIELD_S = 0.5           # a holder that yielded stays away at most this long
WAIT_FRESH_S = 1.0      # a .wait file older than this is ignored
WAIT_CHECK_S = 0.05     # how often a holder looks at the .wait file
BACKOFF_START_S = 0.005
BACKOFF_MAX_S = 0.05
FAIL_FAST_S = 0.1
FAIL_FAST_WINDOW_S = 10.0

_LOCK_PREFIX = 'IO Error: Could not set lock on file "'
_HOLDER = re.compile(r'Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)')
# Prefixes of DuckDB messages that mean the file's contents are damaged or not DuckDB's.
_CORRUPT_PREFIXES = ("Corrupt database file", "IO Error: Could not read enough bytes",
                     "IO Error: The file", "IO Error: Extension", "Serialization Error", "INTERNAL Error",
                     "FATAL Error")
_HEADER_BYTES = 3 * 4096      # main header and the two database headers
_DUCKDB_MAGIC = b"DUCK"      # bytes 8..12 of every DuckDB database file
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreBusyError(RuntimeError):
    """The database file stayed locked by another process for longer than the timeout.

    Attributes
    ----------
    path : Path
    waited_s : float
        How long this call waited.
    holder_pid : int or None
        Process id of the holder, as DuckDB reports it.
    holder_program : str or None
    """

    def __init__(self, path: Path, waited_s: float, detail: str = ""):
        m = _HOLDER.search(detail)
        self.path = path
        self.waited_s = waited_s
        self.holder_pid = int(m["pid"]) if m else None
        self.holder_program = m["program"] if m else None
        who = f" (PID {self.holder_pid}, {self.holder_program})" if m else ""
        super().__init__(
            f"The store file {path} is in use by another process{who} and stayed locked for {waited_s:.1f} s. "
            "Wait for that process to finish, or release the file there (store.close() in a notebook, or "
            "restart its kernel), then try again.")


class StoreCorruptError(InputError):
    """The store file is not a DuckDB database, or is a damaged one."""

    def __init__(self, path: Path, what: str):
        self.path = path
        super().__init__("store file", f"{path} {what}. Restore it from a backup, move it away, or point "
                                       "RISKCORE_DB at another file")


class StoreReadOnlyError(InputError):
    """A write was asked of a store opened read-only."""

    def __init__(self, path: Path, why: str):
        self.path = path
        super().__init__("store file", f"{path} is open read-only ({why}); nothing was written")


def _is_lock_conflict(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and str(exc).startswith(_LOCK_PREFIX)


def _is_thread_conflict(exc: BaseException) -> bool:
    if isinstance(exc, duckdb.ResourceInUseException):
        return True
    # Write-write conflicts between concurrent transactions of this process: DuckDB's
    # optimistic concurrency aborts the later one ("... write-write conflict ...", or at
    # commit "Failed to commit: PRIMARY KEY ... violation" when two upserts of one key
    # race). The transaction was rolled back, so running the whole unit again is safe.
    if not isinstance(exc, duckdb.TransactionException):
        return False
    text = str(exc)
    return text.startswith("TransactionContext Error: Failed to commit") or "conflict" in text.lower()


def _is_corrupt(exc: BaseException) -> bool:
    if isinstance(exc, (duckdb.SerializationException, duckdb.InternalException, duckdb.FatalException)):
        return True
    if not isinstance(exc, duckdb.Error) or _is_lock_conflict(exc):
        return False
    text = str(exc)
    return type(exc) is duckdb.Error or text.startswith(_CORRUPT_PREFIXES)


def check_header(path: Path) -> None:
    """Raise :class:`StoreCorruptError` if ``path`` exists and is not a DuckDB database file."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreCorruptError(path, "is a folder, not a DuckDB database file") from None
    if head.startswith(_SQLITE_MAGIC):
        raise StoreCorruptError(path, "is a SQLite file, not a DuckDB database file")
    # Shorter than a header: possibly being created by another process right now, so let
    # DuckDB decide (it reports a lock conflict, or "not a valid DuckDB database file").
    if len(head) >= 12 and head[8:12] != _DUCKDB_MAGIC:
        raise StoreCorruptError(path, "is not a DuckDB database file (it does not start with DuckDB's header)")


class Database:
    """One DuckDB database instance for one file in this process, shared by all threads.

    Use :func:`database_for`; do not construct directly. See the module docstring for
    the rules on idling, retries and taking turns with other processes.
    """

    def __init__(self, path: Path):
        self.path = path
        self.wait_path = Path(f"{path}.wait")
        self.linger = LINGER_S
        self._cond = threading.Condition()
        self._write_lock = threading.RLock()  # re-entrant: a unit that calls the store again cannot deadlock
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_read_only = False
        self._active = 0
        self._draining = False
        self._opened_at = 0.0
        self._last_used = 0.0
        self._away_until = 0.0
        self._next_wait_check = 0.0
        self._busy_until = 0.0
        self._busy_timeout = 0.0
        self._reaper: threading.Thread | None = None
        self.opens = 0  # how many times the file was opened (for tests and benches)

    # -- public ----------------------------------------------------------------------
    def run(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, write: bool, timeout: float,
            read_only: bool = False) -> T:
        """Run ``work(cursor)`` on a cursor of the shared instance, retrying on conflicts.

        ``write`` units run in one transaction (committed, or rolled back on any error).
        """
        start = time.monotonic()
        requested = timeout
        if start < self._busy_until and timeout <= self._busy_timeout:
            # the file was held elsewhere for as long as this call would wait, moments ago
            timeout = min(timeout, FAIL_FAST_S)
        deadline = start + timeout
        delay = BACKOFF_START_S
        waiting = False
        try:
            while True:
                try:
                    out = self._unit(work, write=write, read_only=read_only)
                    self._busy_until = 0.0
                    return out
                except duckdb.Error as exc:
                    if _is_corrupt(exc):
                        self._invalidate()
                        raise StoreCorruptError(self.path, f"is damaged and cannot be read ({exc})") from exc
                    lock = _is_lock_conflict(exc)
                    if not (lock or _is_thread_conflict(exc)):
                        raise
                    now = time.monotonic()
                    if now > deadline:
                        if lock:
                            if now >= self._busy_until:
                                self._busy_timeout = 0.0
                            self._busy_until = now + FAIL_FAST_WINDOW_S
                            self._busy_timeout = max(self._busy_timeout, requested)
                            raise StoreBusyError(self.path, now - start, str(exc)) from exc
                        raise
                    if lock:
                        waiting = True
                        self._touch_wait()
                    time.sleep(min(delay * (0.5 + random.random()), max(0.0, deadline - now)))
                    delay = min(delay * 2, BACKOFF_MAX_S)
        finally:
            if waiting:
                with contextlib.suppress(OSError):
                    self.wait_path.unlink()

    def close(self) -> bool:
        """Release the file now if no unit of work is running; True if it was open."""
        with self._cond:
            if self._con is None or self._active:
                return False
            self._close_locked()
            return True

    @property
    def is_open(self) -> bool:
        return self._con is not None

    # -- internals -------------------------------------------------------------------
    def _unit(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, write: bool, read_only: bool) -> T:
        if write:
            # One write transaction at a time per process: read-modify-write units (upserts
            # of a setting or a parameter set) cannot race each other into constraint errors,
            # and a write is a few ms. Reads run in parallel on their own cursors (MVCC).
            with self._write_lock:
                return self._unit_on(work, write=True, read_only=False)
        return self._unit_on(work, write=False, read_only=read_only)

    def _unit_on(self, work: Callable[[duckdb.DuckDBPyConnection], T], *, write: bool, read_only: bool) -> T:
        con = self._acquire(read_only=read_only and not write)
        try:
            cur = con.cursor()
            try:
                if not write:
                    return work(cur)
                cur.execute("BEGIN TRANSACTION")
                try:
                    out = work(cur)
                    cur.execute("COMMIT")
                    return out
                except BaseException:
                    with contextlib.suppress(Exception):
                        cur.execute("ROLLBACK")
                    raise
            finally:
                cur.close()
        finally:
            self._release()

    def _acquire(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        with self._cond:
            while True:
                now = time.monotonic()
                if self._con is not None and not self._draining:
                    if self._con_read_only and not read_only:
                        self._draining = True  # reopen read-write once the readers are done
                    elif self._should_yield(now):
                        self._draining = True
                    else:
                        self._active += 1
                        return self._con
                if self._draining:
                    if self._active == 0:
                        self._close_locked()
                    else:
                        self._cond.wait(0.05)
                    continue
                # closed: stay away while we have yielded to a waiting process
                if now < self._away_until and self.wait_path.exists():
                    self._cond.wait(min(0.02, self._away_until - now))
                    continue
                self._open_locked(read_only=read_only)  # raises lock conflicts to run()'s retry
                self._active += 1
                return self._con  # type: ignore[return-value]

    def _release(self) -> None:
        with self._cond:
            self._active -= 1
            self._last_used = time.monotonic()
            if self._active == 0:
                self._cond.notify_all()

    def _should_yield(self, now: float) -> bool:
        if now < self._next_wait_check or now - self._opened_at < MIN_HOLD_S:
            return False
        self._next_wait_check = now + WAIT_CHECK_S
        try:
            fresh = time.time() - self.wait_path.stat().st_mtime < WAIT_FRESH_S
        except OSError:
            return False
        if fresh:
            self._away_until = now + YIELD_S
        return fresh

    def _open_locked(self, *, read_only: bool) -> None:
        check_header(self.path)
        con = duckdb.connect(str(self.path), read_only=read_only)
        try:
            # Global settings of the instance, set after connecting rather than as connect()
            # config so that a plain duckdb.connect(path) elsewhere in the process (a notebook
            # cell, a test) shares this instance instead of failing on a config mismatch.
            con.execute("SET autoinstall_known_extensions = false")
            con.execute("SET autoload_known_extensions = false")
            self._check_length(con)
        except BaseException:
            con.close()
            raise
        self._con, self._con_read_only = con, read_only
        self._opened_at = self._last_used = time.monotonic()
        self.opens += 1
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap, name=f"riskcore-store-reaper:{self.path.name}",
                                            daemon=True)
            self._reaper.start()

    def _check_length(self, con: duckdb.DuckDBPyConnection) -> None:
        """A truncated file opens, and fails only when a missing block is read: catch it now.

        With no write-ahead log pending, every block in use is on disk after the three
        4 KiB headers, so a file with room for fewer blocks than ``used_blocks`` lost its
        tail. (``total_blocks`` would not do: free blocks at the end need not be on disk.)
        A cut that only removed free blocks passes, and is harmless.
        """
        if Path(f"{self.path}.wal").exists():
            return  # blocks allocated by the log's replay are not on disk yet
        block_size, used_blocks = con.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()").fetchone()
        on_disk = (os.path.getsize(self.path) - _HEADER_BYTES) // max(1, int(block_size))
        if used_blocks and on_disk < int(used_blocks):
            raise StoreCorruptError(self.path, f"is truncated (room for {max(on_disk, 0)} of the {used_blocks} "
                                               "blocks in use)")

    def _close_locked(self) -> None:
        con, self._con = self._con, None
        self._draining = False
        if con is not None:
            with contextlib.suppress(duckdb.Error):
                con.close()
        self._cond.notify_all()

    def _invalidate(self) -> None:
        """Drop the instance after a corruption error (DuckDB may have invalidated it)."""
        with self._cond:
            if self._con is not None:
                self._draining = True
                if self._active == 0:
                    self._close_locked()

    def _touch_wait(self) -> None:
        with contextlib.suppress(OSError):
            self.wait_path.touch()

    def _reap(self) -> None:
        """Close the file after ``linger`` idle seconds; exits when the file is closed."""
        with self._cond:
            while self._con is not None:
                idle = time.monotonic() - self._last_used
                if self._active == 0 and idle >= self.linger:
                    self._close_locked()
                    break
                self._cond.wait(max(0.01, self.linger - idle) if self._active == 0 else None)
            self._reaper = None


_registry: dict[str, Database] = {}
_registry_lock = threading.Lock()


def database_for(path: Path) -> Database:
    """The process-wide :class:`Database` of ``path`` (created on first use, kept for the process's life)."""
    key = os.path.realpath(path)
    with _registry_lock:
        db = _registry.get(key)
        if db is None:
            db = _registry[key] = Database(Path(key))
        return db


_inherited: list[Database] = []


def _before_fork() -> None:
    # A forked child inherits DuckDB's in-memory instance (and its file descriptor) but not
    # the file lock: it would write through a copy of the parent's instance. Release every
    # idle file first, so the child opens its own instance and takes its turn with the lock.
    for db in list(_registry.values()):
        db.close()


def _after_fork_in_child() -> None:
    # Whatever stayed open (a call was running in another thread) is the parent's: never
    # use nor close it here (closing would checkpoint the parent's file). Keep the objects
    # alive, unused, and start with an empty registry.
    _inherited.extend(_registry.values())
    _registry.clear()
    global _registry_lock
    _registry_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


@atexit.register
def _close_all() -> None:
    for db in list(_registry.values()):
        db.close()


#: what a page catches around store calls: the store's own errors and any DuckDB error
STORE_ERRORS: tuple[type[BaseException], ...] = (StoreBusyError, StoreCorruptError, StoreReadOnlyError, DatabaseError)
