"""The value scales: mm/h ↔ dBZ ↔ the model's [0, 1], and what each scale accepts."""

import numpy as np
import pytest
import torch

from convlstm.core import values
from convlstm.core.values import GRAY, RAIN, scale_named

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_unit_scale_round_trip():
    rain = np.geomspace(values.RAIN_DRY * 1.001, values.RAIN_TOP, 1000).astype(np.float32)
    unit = values.to_unit(rain)
    assert (np.diff(unit) > 0).all() and unit.min() > 0 and unit.max() <= 1
    np.testing.assert_allclose(values.from_unit(unit), rain, rtol=1e-4)
    # Dry stays dry; beyond the top it clips.
    np.testing.assert_array_equal(values.to_unit(np.array([0.0, values.RAIN_DRY / 2, 1000.0])), [0, 0, 1])
    assert values.from_unit(np.zeros(1))[0] == 0
    assert values.from_unit(np.ones(1))[0] == pytest.approx(values.RAIN_TOP)


def test_unit_scale_constants_and_torch():
    assert values.rain_to_dbz(np.float32(1.0)) == pytest.approx(10 * np.log10(200), abs=1e-4)  # ≈ 23.01
    assert values.dbz_to_rain(np.float32(10 * np.log10(200))) == pytest.approx(1.0, rel=1e-5)
    assert values.RAIN_DRY == pytest.approx(0.0365, abs=1e-4) and values.RAIN_TOP == pytest.approx(205.0, abs=0.1)
    rain = torch.tensor([0.0, 0.5, 5.0, 50.0])
    unit = values.to_unit(rain)
    assert isinstance(unit, torch.Tensor)
    np.testing.assert_allclose(unit.numpy(), values.to_unit(rain.numpy()), rtol=1e-6)
    torch.testing.assert_close(values.from_unit(unit), rain)


def test_each_scale_decodes_what_it_encodes():
    gray = np.linspace(0, 1, 11, dtype=np.float32)
    np.testing.assert_array_equal(GRAY.decode(GRAY.encode(gray)), gray)
    rain = np.geomspace(values.RAIN_DRY * 1.01, values.RAIN_TOP * 0.99, 50).astype(np.float32)  # mm/h, in range
    np.testing.assert_allclose(RAIN.decode(RAIN.encode(rain)), rain, rtol=1e-4)
    assert scale_named("unit") is GRAY and scale_named("dbz60") is RAIN
    with pytest.raises(ValueError, match="value_transform must be one of \\('unit', 'dbz60'\\), got 'dbz'"):
        scale_named("dbz")


def test_check_gives_float32_and_refuses_what_a_scale_cannot_take_with_a_message():
    checked = GRAY.check(np.array([0.0, 0.5, 1.0]))
    assert checked.dtype == np.float32 and checked.tolist() == [0.0, 0.5, 1.0]
    assert RAIN.check(np.array([0.0, 250.0])).max() == 250  # rain rates have no upper bound
    with pytest.raises(ValueError, match=r"^frames must lie in \[0, 1\] \(gray levels in \[0, 1\]\)$"):
        GRAY.check(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"^the upload must lie in \[0, inf\] \(rain rate in mm/h\)$"):
        RAIN.check(np.array([2.0, -0.1]), name="the upload")
    for bad in (np.array([0.5, np.nan]), np.array([0.5, np.inf]), np.array([0, 1])):  # NaN, inf, integers
        with pytest.raises(ValueError, match="^frames must be finite floats$"):
            GRAY.check(bad)
