"""Safe rendering and store-error handling shared by every page (issue 17, items 8 and 9).

* :func:`md` escapes user-supplied text (dataset, run, scenario and parameter-set names,
  notes, file names) for the Markdown that ``st.caption``, ``st.success``, ``st.error``,
  headings, tab and expander labels render. Without it a dataset named
  ``![x](http://host/pixel)`` made every visitor's browser fetch that URL.
* :func:`show_store_error` tells a person what happened to the store and what to do;
  :func:`store_guard` catches a store error that escapes a page (the entry point wraps
  every page in it) so no page ever shows a traceback for a busy, damaged or read-only file.
* :data:`STORE_TIMEOUT_S`: how long the app waits for a file held by another process
  before saying so (a notebook waits 30 s; a page should answer within seconds).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import streamlit as st

from riskcore.store import STORE_ERRORS, StoreBusyError, StoreCorruptError, StoreReadOnlyError

__all__ = ["md", "input_error_text", "show_store_error", "store_guard", "is_store_error", "STORE_TIMEOUT_S"]

#: seconds a page waits for a store file that another process holds
STORE_TIMEOUT_S = 3.0

# Characters escaped (CommonMark lets any ASCII punctuation be backslash-escaped, and an
# escaped one is literal): [ ] ! (links, images, Streamlit's :color[...] directives),
# < > (autolinks, HTML), ` * ~ (code and emphasis), $ (maths), # (headings), and the
# backslash itself (so a name cannot cancel an escape). The ':' of '://' and the '.' of
# 'www.' are escaped too, which stops GFM's bare-URL autolinks. Underscores, hyphens,
# dots and brackets ( ) stay as typed: without [ ] they cannot form a link, an intraword
# underscore is not emphasis in GFM, and names such as "stable_token" keep reading the
# same in every message.
_SPECIAL = re.compile(r"([\\`*~\[\]<>!$#])")
_AUTOLINK = re.compile(r"(:)(?=//)|(?<=www)(\.)", re.IGNORECASE)
_SPACE = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


def md(value: Any) -> str:
    r"""``value`` as text for Markdown: on one line, and no link, image, autolink, HTML,
    heading, code span, bold or maths can come out of it (an ``_x_`` may still show in italics).

    Not for code spans: inside backticks an escape shows as it is.

    Examples
    --------
    >>> print(md("![x](http://e.test/p.png)"))
    \!\[x\](http\://e.test/p.png)
    """
    text = _SPACE.sub(" ", str(value))
    text = _SPECIAL.sub(r"\\\1", text)
    return _AUTOLINK.sub(lambda m: "\\" + m.group(0), text)


def input_error_text(exc: BaseException) -> str:
    """The message of an InputError for Markdown, the offending value (user text) escaped.

    Field names and the rule are written by the program and stay as they are, so messages
    such as ``webhook_urls[1]: ...`` or ``sigma_base: must be > 0`` read unchanged.
    """
    text = str(exc)
    value = getattr(exc, "value", None)
    tail = f" (got {value!r})"
    if value is not None and text.endswith(tail):
        return text[: -len(tail)] + f" (got {md(repr(value))})"
    return text


def is_store_error(exc: BaseException) -> bool:
    return isinstance(exc, STORE_ERRORS)


def store_error_message(exc: BaseException) -> str:
    """What happened to the store and what to do, as Markdown (user text escaped)."""
    path = md(getattr(exc, "path", "") or "")
    if isinstance(exc, StoreBusyError):
        who = f" (process {exc.holder_pid})" if exc.holder_pid else ""
        return (f"**The store is in use by another program{who}** and stayed locked for {exc.waited_s:.1f} s: "
                f"{path}. Wait a moment and reload the page, or release the file there: `store.close()` in a "
                "notebook, or restart its kernel. Nothing was saved.")
    if isinstance(exc, StoreCorruptError):
        return (f"**The store file cannot be used**: {md(exc.detail)}. Results can still be computed but not "
                "saved or reloaded until the file is replaced; then reload the page.")
    if isinstance(exc, StoreReadOnlyError):
        return (f"**The store is read-only**: {path} can be read but not written, so this was not saved. Make "
                "the file and its folder writable, or set RISKCORE_DB to a writable file and restart the app.")
    return (f"**The store could not complete this** ({md(type(exc).__name__)}: {md(exc)}). Reload the page; if "
            "it happens again, check the store file shown in the sidebar.")


def show_store_error(exc: BaseException) -> None:
    """An ``st.error`` for a store error: what happened and what to do (never a traceback)."""
    st.error(store_error_message(exc), icon=":material/database:")


@contextlib.contextmanager
def store_guard() -> Iterator[None]:
    """Show a store error escaping the block as an ``st.error`` and end the block there.

    Streamlit's own control flow (``st.stop``, ``st.rerun``) passes through: those are not
    ``Exception`` subclasses, and only store errors are caught.
    """
    try:
        yield
    except STORE_ERRORS as exc:
        show_store_error(exc)
