"""Child process of the crash test: ``python _crash_child.py write|resume DB OUT``.

``write`` feeds :func:`_feed.events` through a runtime and takes a snapshot every 10 events; after
each committed snapshot it writes ``OUT/committed_<k>.json`` (id, next event, open alerts). The
test sets ``$RISKCORE_SNAPSHOT_PAUSE`` so one snapshot stops inside its transaction and kills the
process there. ``resume`` restores the newest snapshot and processes the rest of the events, writing
``OUT/resumed.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _feed import comparable, events, new_runtime  # noqa: E402

from riskcore.recovery import restore, snapshot  # noqa: E402
from riskcore.store import Store  # noqa: E402


def main(mode: str, db: str, out: str) -> None:
    store, out_dir, evs = Store(db), Path(out), events()
    if mode == "write":
        rt = new_runtime()
        k = 0
        for i, (etype, data, ts) in enumerate(evs):
            rt.process(etype, data, ts=ts)
            if (i + 1) % 10 == 0:
                rt.extra["next_event"] = i + 1
                info = snapshot(store, rt)
                k += 1
                (out_dir / f"committed_{k}.json").write_text(json.dumps(
                    {"snapshot_id": info.snapshot_id, "next_event": i + 1, "active_alerts": rt.active_alerts()}))
        return
    result = restore(store, "latest")
    rt = result.runtime
    start = int(rt.extra["next_event"])
    restored_alerts = rt.active_alerts()
    responses = [comparable(rt.process(etype, data, ts=ts)) for etype, data, ts in evs[start:]]
    (out_dir / "resumed.json").write_text(json.dumps({
        "snapshot_id": result.info.snapshot_id, "next_event": start, "restored_alerts": restored_alerts,
        "responses": responses, "final_alerts": sorted(rt.active_alerts()),
        "final_seq": rt.monitor._seq}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
