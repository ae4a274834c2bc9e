"""ModelParameters: seed defaults, validation messages, immutability, round trips, hashing."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import riskcore
from riskcore.errors import InputError
from riskcore.params import PARAM_GROUPS, ModelParameters

SEED_DEFAULTS = {  # seed 000 §1.1 ModelParameters, verbatim
    "alpha": 0.5, "beta": 0.3, "gamma": 0.8, "sigma_base": 0.02,
    "fiat_discount": 0.5, "fiat_penalty": 2.0, "fiat_threshold": 0.5,
    "speculation_penalty": 0.02, "velocity_threshold": 5.0, "grace_period_hours": 24.0,
    "network_alpha": 0.15, "adoption_threshold": 1000, "liquidity_minimum": 50000.0,
    "jump_intensity": 0.1, "jump_size_mu": -0.05, "jump_size_sigma": 0.03,
    "calibration_window": 252, "recalibration_frequency": 30,
}


def test_defaults_are_the_seeds():
    assert ModelParameters().to_dict() == SEED_DEFAULTS
    assert riskcore.ModelParameters is ModelParameters
    assert isinstance(ModelParameters().adoption_threshold, int)


@pytest.mark.parametrize(
    ("field", "bad"),
    [("sigma_base", 0.0), ("sigma_base", -0.1), ("alpha", -1.0), ("alpha", math.nan), ("beta", math.inf),
     ("jump_size_sigma", -1e-9), ("jump_intensity", -0.5), ("fiat_threshold", 1.5), ("fiat_discount", -0.1),
     ("fiat_penalty", 0.5), ("speculation_penalty", 2.0), ("velocity_threshold", 0.0),
     ("adoption_threshold", 10.5), ("calibration_window", 5), ("recalibration_frequency", 0),
     ("jump_size_mu", "a"), ("gamma", None), ("alpha", True)],
)
def test_invalid_values_name_the_field_and_range(field, bad):
    with pytest.raises(InputError) as info:
        ModelParameters(**{field: bad})
    msg = str(info.value)
    assert msg.startswith(f"{field}:")
    assert "must be" in msg
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_range_text_is_specific():
    with pytest.raises(InputError, match=r"fiat_threshold: must be a finite number in \[0, 1\] \(got 1.5\)"):
        ModelParameters(fiat_threshold=1.5)
    with pytest.raises(InputError, match=r"sigma_base: must be a finite number > 0"):
        ModelParameters(sigma_base=0)


def test_immutable_and_replace_validates():
    p = ModelParameters()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.alpha = 1.0  # type: ignore[misc]
    q = p.replace(alpha=0.9)
    assert q.alpha == 0.9 and p.alpha == 0.5
    with pytest.raises(InputError, match="sigma_base"):
        p.replace(sigma_base=-1)
    with pytest.raises(InputError, match="unknown parameter"):
        p.replace(sigmabase=0.1)


def test_numpy_scalars_and_integral_floats_are_coerced():
    import numpy as np

    p = ModelParameters(alpha=np.float32(0.25), adoption_threshold=np.int64(7), calibration_window=300.0)
    assert type(p.alpha) is float and p.alpha == 0.25
    assert type(p.adoption_threshold) is int and p.calibration_window == 300


def test_dict_and_json_round_trip():
    p = ModelParameters(alpha=0.1 + 0.2, jump_size_mu=-1e-300, adoption_threshold=12)
    assert ModelParameters.from_dict(p.to_dict()) == p
    assert ModelParameters.from_json(p.to_json()) == p
    assert json.loads(p.to_json())["alpha"] == 0.1 + 0.2  # shortest repr, bit-exact
    with pytest.raises(InputError, match="unknown parameter"):
        ModelParameters.from_dict({"alpha": 1, "nope": 2})
    with pytest.raises(InputError, match="not valid JSON"):
        ModelParameters.from_json("{oops")


def test_hash_is_stable_and_content_based():
    # A literal: the hash identifies stored runs across processes and versions.
    assert ModelParameters().content_hash() == "58280c0a5943ed37"
    assert ModelParameters(alpha=0.5).content_hash() == ModelParameters().content_hash()
    assert ModelParameters(alpha=0.51).content_hash() != ModelParameters().content_hash()
    assert ModelParameters().diff(ModelParameters(alpha=0.6)) == {"alpha": (0.5, 0.6)}


def test_specs_cover_every_field_and_group():
    specs = ModelParameters.specs()
    assert list(specs) == list(SEED_DEFAULTS)
    assert {s.group for s in specs.values()} <= set(PARAM_GROUPS)


finite = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(alpha=finite, sigma=st.floats(min_value=1e-9, max_value=10), mu=st.floats(-1, 1),
       thr=st.floats(0, 1), window=st.integers(30, 10_000))
def test_any_valid_parameters_round_trip(alpha, sigma, mu, thr, window):
    p = ModelParameters(alpha=alpha, sigma_base=sigma, jump_size_mu=mu, fiat_threshold=thr,
                        calibration_window=window)
    assert ModelParameters.from_json(p.to_json()) == p
    assert ModelParameters.from_json(p.to_json()).content_hash() == p.content_hash()
