"""The package-wide input checks (riskcore.validate): field names, bounds wording, what is accepted."""

import numpy as np
import pytest

from riskcore.errors import InputError
from riskcore.validate import bounds_text, direction, finite, float_array, integer, real, text


def test_bounds_wording():
    assert bounds_text(0, 1) == "in [0, 1]" and bounds_text(0, 1, lo_open=True) == "in (0, 1]"
    assert bounds_text(0, None, lo_open=True) == "> 0" and bounds_text(None, 5) == "<= 5"
    assert bounds_text(None, None) == ""


def test_real_and_finite():
    assert real("x", np.float32(0.5), lo=0, hi=1) == 0.5 and real("x", 3) == 3.0
    with pytest.raises(InputError, match=r"x: must be a finite number in \(0, 1\]") as err:
        real("x", 0.0, lo=0, lo_open=True, hi=1)
    assert err.value.field == "x"
    for bad in (True, "1.0", None, float("inf")):
        with pytest.raises(InputError):
            real("x", bad)
    assert finite("y", "1.5") == 1.5                       # finite() reads what float() reads, bools excepted
    for bad, why in ((True, "must be a number"), ("abc", "must be a number"), (float("nan"), "must be finite")):
        with pytest.raises(InputError, match=why):
            finite("y", bad)


def test_integer_accepts_whole_floats_only():
    assert integer("n", 5.0, 1) == 5 and integer("n", np.int64(7), 1, 10) == 7
    for bad, msg in ((0, r"n: must be an integer >= 1"), (2.5, "must be an integer"), (True, "must be an integer"),
                     (11, r"must be an integer in \[1, 10\]")):
        with pytest.raises(InputError, match=msg):
            integer("n", bad, 1, 10 if bad == 11 else None)


def test_float_array_broadcast_direction_text():
    np.testing.assert_array_equal(float_array("p", [2.0], 3), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(float_array("p", 1.5, 2), [1.5, 1.5])
    with pytest.raises(InputError, match=r"one per price \(3\)"):
        float_array("p", [1.0, 2.0], 3)
    with pytest.raises(InputError, match="must be numbers"):
        float_array("p", ["a"])
    assert direction("d", -1) == -1 and text("t", "ok") == "ok"
    with pytest.raises(InputError):
        direction("d", 0)
    with pytest.raises(InputError):
        text("t", "  ")
