"""The app's requests, as the UI, the benchmarks and the tests call them: answers scored and drawn,
and what a person typed refused with a message for them."""

import numpy as np
import pytest

from convlstm import CheckpointError
from convlstm.core.checkpoint import RADAR_CHECKPOINT
from convlstm.data.limits import SequenceError
from convlstm.serve import requests
from convlstm.serve.requests import ADVECTION_NAME, Backend, Shown


def test_moving_mnist_sequence(sequence):
    assert sequence.shape == (20, 64, 64) and sequence.dtype == np.float32
    assert np.array_equal(sequence, requests.moving_mnist_sequence(3, 2, 20))  # same seed, same frames
    with pytest.raises(ValueError, match="digits"):
        requests.moving_mnist_sequence(3, 4, 20)
    with pytest.raises(ValueError, match="seed"):
        requests.moving_mnist_sequence(-1, 2, 20)


@pytest.fixture(scope="module")
def backend():
    return Backend()  # the bundled models, loaded on first use


def test_a_moving_mnist_request_is_scored_and_drawn(backend):
    shown = backend.moving_mnist(7, 1, 10)
    assert isinstance(shown, Shown)
    assert list(shown.comparison.scores) == ["ConvLSTM", ADVECTION_NAME, "optical flow", "persistence"]
    assert all(s["mse"].shape == (10,) for s in shown.comparison.scores.values())
    np.testing.assert_array_equal(shown.comparison.truth, requests.moving_mnist_sequence(7, 1, 20)[10:])
    for path in (shown.files.animation, shown.files.grid, *shown.files.downloads):
        assert path.is_file() and path.stat().st_size > 0, path


@pytest.mark.parametrize("seed", [-1, 2**31, 2.5, "seven"])
def test_a_bad_seed_is_a_value_error_for_people(backend, seed):
    with pytest.raises(ValueError, match=f"The seed must be a whole number from 0 to {2**31 - 1}, got"):
        backend.moving_mnist(seed, 1, 10)


def test_requests_without_a_file_say_so(backend):
    with pytest.raises(SequenceError, match="No file was uploaded"):
        backend.upload([], 10, 10)
    with pytest.raises(ValueError, match="Choose a radar file"):
        backend.radar_upload(None, "mm/h", 6)


def test_another_model_must_be_named_and_must_forecast_video(backend):
    with pytest.raises(ValueError, match="Type a Hub repo id"):
        backend.load_model("")
    with pytest.raises(CheckpointError, match=r"rain rate in mm/h, not gray video frames.*Still using "):
        backend.load_model(str(RADAR_CHECKPOINT))
    assert backend.session_model(None) is backend.default  # the session keeps the app's model
