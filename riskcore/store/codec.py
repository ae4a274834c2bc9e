"""Lossless JSON and array encoding for the store.

Floats are written with Python's shortest round-trip ``repr`` so a value read back
is bit-identical; NaN and infinities survive (the columns are ``VARCHAR``, not
DuckDB ``JSON``). DataFrames keep index, columns and values. Arrays are stored in
NumPy's ``.npy`` format and read with ``allow_pickle=False``: nothing executable is
ever loaded from the file.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import io
import json
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError

_FRAME = "__dataframe__"
_SERIES = "__series__"
_TS = "__timestamp__"
_TUPLE = "__tuple__"


def _label(x: Any) -> Any:
    if isinstance(x, tuple):
        return {_TUPLE: [_label(v) for v in x]}
    return to_jsonable(x)


def _unlabel(x: Any) -> Any:
    if isinstance(x, dict) and _TUPLE in x:
        return tuple(_unlabel(v) for v in x[_TUPLE])
    return from_jsonable(x)


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to JSON-compatible Python objects, tagging non-JSON types."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, enum.Enum):
        return to_jsonable(obj.value)
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, pd.DataFrame):
        return {
            _FRAME: {
                "columns": [_label(c) for c in obj.columns],
                "index": [_label(i) for i in obj.index],
                "index_names": [_label(n) for n in obj.index.names],
                "column_names": [_label(n) for n in obj.columns.names],
                "data": [[to_jsonable(v) for v in row] for row in obj.itertuples(index=False, name=None)],
            }
        }
    if isinstance(obj, pd.Series):
        return {_SERIES: {"name": _label(obj.name), "index": [_label(i) for i in obj.index],
                          "data": [to_jsonable(v) for v in obj.tolist()]}}
    if isinstance(obj, (pd.Timestamp, _dt.datetime, _dt.date)):
        return {_TS: pd.Timestamp(obj).isoformat()}
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict())
        return to_jsonable(dataclasses.asdict(obj))
    if hasattr(obj, "to_dict"):
        return to_jsonable(obj.to_dict())
    raise InputError("value", "cannot be stored: unsupported type", value=type(obj).__name__)


def from_jsonable(obj: Any) -> Any:
    """Inverse of :func:`to_jsonable`."""
    if isinstance(obj, list):
        return [from_jsonable(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if _FRAME in obj:
        f = obj[_FRAME]
        cols = [_unlabel(c) for c in f["columns"]]
        index = [_unlabel(i) for i in f["index"]]
        columns = pd.MultiIndex.from_tuples(cols) if cols and all(isinstance(c, tuple) for c in cols) else cols
        idx = pd.MultiIndex.from_tuples(index) if index and all(isinstance(i, tuple) for i in index) else index
        frame = pd.DataFrame([[from_jsonable(v) for v in row] for row in f["data"]], columns=columns, index=idx)
        if not len(frame.columns) and cols:
            frame = pd.DataFrame(columns=columns, index=idx)
        frame.index.names = [_unlabel(n) for n in f.get("index_names", [f.get("index_name")])]
        if "column_names" in f:
            frame.columns.names = [_unlabel(n) for n in f["column_names"]]
        return frame
    if _SERIES in obj:
        s = obj[_SERIES]
        return pd.Series([from_jsonable(v) for v in s["data"]], index=[_unlabel(i) for i in s["index"]],
                         name=_unlabel(s["name"]), dtype=object).infer_objects()
    if _TS in obj and len(obj) == 1:
        return pd.Timestamp(obj[_TS])
    return {k: from_jsonable(v) for k, v in obj.items()}


def dumps(obj: Any) -> str:
    """Serialise to lossless JSON text."""
    return json.dumps(to_jsonable(obj), allow_nan=True, ensure_ascii=False)


def loads(text: str | None) -> Any:
    """Parse text written by :func:`dumps` (``None`` stays ``None``)."""
    return None if text is None else from_jsonable(json.loads(text))


def array_to_bytes(name: str, arr: Any) -> bytes:
    """Encode a numeric/bool/str-free array as ``.npy`` bytes; object arrays are refused."""
    a = np.asarray(arr)
    if a.dtype.hasobject:
        raise InputError(f"arrays[{name!r}]", "must be a numeric or boolean array, not object dtype")
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def bytes_to_array(blob: bytes) -> np.ndarray:
    """Decode ``.npy`` bytes without ever unpickling."""
    return np.load(io.BytesIO(bytes(blob)), allow_pickle=False)
