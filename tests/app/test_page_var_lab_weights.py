"""Issue 10 item 3 on the VaR Lab: the scores behind the ensemble weights are shown."""

from __future__ import annotations

import numpy as np


def test_weights_tab_shows_pinball_loss_coverage_gate_and_weights(app_test):
    at = app_test("var_lab", timeout=180)
    at.number_input(key="var-n").set_value(600)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    scores = [t.value for t in at.table if "gated" in t.value.columns]
    assert scores, "no score table"
    s = scores[0]
    assert {"pinball_loss", "cc_p", "gated", "weight"} <= set(s.columns)
    assert (s["pinball_loss"] > 0).all() and (s.loc[s["gated"], "weight"] == 0).all()
    for c in s.index.get_level_values("confidence").unique():
        np.testing.assert_allclose(s.xs(c, level="confidence")["weight"].sum(), 1.0)
    assert any("pinball" in str(c.value) for c in at.caption)
