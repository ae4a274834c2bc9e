"""Dask distributed helpers shared by riskcore's engines.

:func:`get_client` connects to the scheduler at ``$RISKCORE_DASK_SCHEDULER``
(e.g. ``tcp://host:8786``) or, when none is set, starts one in-process
:class:`~distributed.LocalCluster` per process and reuses it. :func:`map_chunks` runs
a picklable function over a list of work items as tasks and returns the results in
the order of the items, whatever order they finish in.

Decisions
---------
The local cluster is threaded (``processes=False``) by default: the Numba kernels
release the GIL, so threads run in parallel without the start-up cost of worker
processes and without pickling results across processes. Pass ``processes=True`` to
:func:`local_cluster_client` for isolation. Functions sent to a remote scheduler must
be importable on the workers (module-level functions of an installed riskcore).
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from riskcore.errors import InputError

__all__ = ["SCHEDULER_ENV", "get_client", "local_cluster_client", "map_chunks", "close_clients"]

SCHEDULER_ENV = "RISKCORE_DASK_SCHEDULER"

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def local_cluster_client(n_workers: int = 1, threads_per_worker: int | None = None, processes: bool = False) -> Any:
    """A new :class:`distributed.Client` on a fresh LocalCluster (no dashboard)."""
    from distributed import Client, LocalCluster

    threads = threads_per_worker or max(1, os.cpu_count() or 1)
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads, processes=processes,
                           dashboard_address=None)
    return Client(cluster, set_as_default=False)


def get_client(address: str | None = None) -> Any:
    """The shared client: ``address``, else ``$RISKCORE_DASK_SCHEDULER``, else a LocalCluster.

    Clients are cached per address (``"local"`` for the LocalCluster) for the life of
    the process and closed at exit.
    """
    address = address or os.environ.get(SCHEDULER_ENV) or None
    key = address or "local"
    with _lock:
        client = _clients.get(key)
        if client is not None and client.status == "running":
            return client
        if address:
            from distributed import Client

            try:
                client = Client(address, set_as_default=False, timeout=10)
            except OSError as exc:
                raise InputError(SCHEDULER_ENV, f"cannot connect to the Dask scheduler: {exc}", value=address) from None
        else:
            client = local_cluster_client()
        _clients[key] = client
        return client


def map_chunks(fn: Callable[[Any], Any], items: Sequence[Any], *, client: Any = None,
               progress: Callable[[float], None] | None = None) -> list[Any]:
    """Run ``fn(item)`` for every item as Dask tasks; results in the order of ``items``.

    Parameters
    ----------
    fn : callable
        Picklable (module-level) function of one argument.
    items : sequence
        Work items, one task each.
    client : distributed.Client, optional
        Defaults to :func:`get_client`.
    progress : callable, optional
        Called with the fraction of tasks done (0..1) as they finish.
    """
    from distributed import as_completed

    client = client or get_client()
    futures = client.map(fn, list(items), pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    done = 0
    for fut in as_completed(futures, loop=client.loop):
        results[index[fut.key]] = fut.result()
        done += 1
        if progress is not None:
            progress(done / len(futures))
    return results


def close_clients() -> None:
    """Close every cached client and its LocalCluster."""
    with _lock:
        for client in _clients.values():
            cluster = getattr(client, "cluster", None)
            try:
                client.close()
                if cluster is not None:
                    cluster.close()
            except Exception:  # noqa: BLE001 - shutting down; nothing useful to report
                pass
        _clients.clear()


atexit.register(close_clients)
