"""HTML of the stability review."""

from __future__ import annotations

import html

from riskcore.monitor.review import StabilityReview
from riskcore.plots.monitor import stability_timeline_figure
from riskcore.reports.template import document, figures_html

__all__ = ["stability_review_html"]


def stability_review_html(review: StabilityReview, *, n_worst: int = 5, window: int = 10) -> str:
    """An HTML report: summary, time per level, worst periods, alerts and the interactive timeline chart.

    Parameters
    ----------
    review : StabilityReview
    n_worst, window : int
        As in :meth:`StabilityReview.worst_periods`.

    Notes
    -----
    The file is standalone: plotly.js is included inline (about 4.5 MB), so the report opens
    offline — committee members often read it away from the network. Build it on demand (the page
    does so only when the download button is clicked).
    """
    worst = review.worst_periods(n_worst, window)
    fig = stability_timeline_figure(review, worst=worst)
    name = html.escape(review.name)
    body = "\n".join([
        f"<h1>Stability review: {name}</h1>",
        "<h2>Summary</h2>", review.summary().to_html(),
        "<h2>Time at each risk level</h2>", review.level_counts().to_html(float_format=lambda x: f"{x:.3f}"),
        f"<h2>Worst periods ({window} ticks)</h2>", worst.to_html(index=False),
        "<h2>Alerts raised or cleared in the worst periods</h2>",
        review.alerts_in_periods(worst).to_html(index=False, max_rows=500),
        "<h2>Alerts raised</h2>", review.alert_counts().to_html(index=False),
        "<h2>Alert history</h2>", review.alerts.to_html(index=False, max_rows=500),
        "<h2>Timeline</h2>", figures_html([fig], height="100%"),
    ])
    return document(f"Stability review: {review.name}", body)
