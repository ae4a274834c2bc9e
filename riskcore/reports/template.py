"""The one page skeleton and stylesheet of every riskcore HTML report."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

__all__ = ["CSS", "document", "figures_html"]

#: the stylesheet of every report: tables with class ``stats`` are numeric (right-aligned, ``td.l`` left),
#: ``passed`` / ``failed`` / ``error`` colour a check's status
CSS = ("body{font-family:sans-serif;margin:2em;max-width:1200px}"
       "table{border-collapse:collapse}td,th{padding:3px 8px;text-align:left;border-bottom:1px solid #ddd;"
       "font-size:13px}th{background:#f4f4f4}table.stats td,table.stats th{text-align:right}td.l{text-align:left}"
       ".passed{color:#2ca02c;font-weight:bold}.failed{color:#d62728;font-weight:bold}"
       ".error{color:#7f7f7f;font-weight:bold}pre{background:#f8f8f8;padding:6px;font-size:12px;white-space:pre-wrap}")


def document(title: str, body: str) -> str:
    """A standalone HTML document: ``body`` under ``title``, plotly.js inline so it opens offline.

    Parameters
    ----------
    title : str
        Plain text (escaped here) for the ``<title>``.
    body : str
        HTML of the page's content (already escaped by the caller).

    Notes
    -----
    plotly.js is about 4.5 MB; it is written once in the head and every figure of the body is
    rendered with ``include_plotlyjs=False`` (:func:`figures_html`).
    """
    from plotly.offline import get_plotlyjs

    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            f'<script type="text/javascript">{get_plotlyjs()}</script>\n<style>{CSS}</style></head>\n'
            f"<body>{body}\n</body></html>")


def figures_html(figures: Iterable[Any], height: str = "420px") -> str:
    """The ``<div>`` of each plotly figure, without plotly.js (the document carries it once)."""
    return "".join(f.to_html(full_html=False, include_plotlyjs=False, default_height=height) for f in figures)
