"""The app's requests, as the UI, the benchmarks and the tests call them: answers scored and drawn,
and what a person typed refused with a message for them."""

import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from convlstm import CheckpointError
from convlstm.core.checkpoint import RADAR_CHECKPOINT
from convlstm.data import composites, radar_windows
from convlstm.data.limits import SequenceError
from convlstm.scoring.compare import BIAS, scores_table
from convlstm.serve import requests
from convlstm.serve.requests import ADVECTION_NAME, Backend, Shown
from convlstm.viz.maps import BOX
from tests.helpers import REAL_RADAR, composites_zip, needs_real_radar, write_composites


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


def test_a_still_picture_is_refused_saying_how_many_frames_are_needed(backend, tmp_path):
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "still.png")
    with pytest.raises(SequenceError, match="at least 2 frames, to see how things move; this upload has 1"):
        backend.upload([str(tmp_path / "still.png")], 10, 10)
    np.save(tmp_path / "still.npy", np.ones((40, 40), np.float32))
    with pytest.raises(SequenceError, match="at least 2 frames"):
        backend.radar_upload(str(tmp_path / "still.npy"), "mm/h", 6)


def test_frames_unlike_the_training_data_are_forecast_with_a_warning_first(backend, tmp_path):
    noise = np.random.default_rng(0).random((20, 64, 64)).astype(np.float32)
    np.save(tmp_path / "noise.npy", noise)
    notes = backend.upload([str(tmp_path / "noise.npy")], 10, 10).comparison.notes
    assert notes[0].startswith("**Unlike what the model learned from** (Moving MNIST") and "not black" in notes[0]
    np.save(tmp_path / "digits.npy", requests.moving_mnist_sequence(3, 2, 20))
    assert not any("Unlike" in n for n in backend.upload([str(tmp_path / "digits.npy")], 10, 10).comparison.notes)
    notes = backend.radar_upload(str(tmp_path / "noise.npy"), "mm/h", 6).comparison.notes
    assert notes[0].startswith("**Unlike what the model learned from** (rain as radar sees it)")
    notes = backend.radar_upload(str(requests.REAL_RADAR_EXAMPLE), "mm/h", 5).comparison.notes
    assert not any("Unlike" in n for n in notes)


@pytest.mark.parametrize("intensity", [0.4, 2.5, "heavy", None])
def test_a_synthetic_loop_s_intensity_is_checked(backend, intensity):
    with pytest.raises(ValueError, match=r"The intensity must be a number from 0.5 \(light rain\) to 2.0"):
        backend.synthetic_radar(3, intensity, "mixed")


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


# --- radar composites -------------------------------------------------------------------------------------



def test_radar_composites_are_forecast_placed_in_time_and_space_and_credited(backend, tmp_path):
    pytest.importorskip("h5py", reason="h5py (requirements-radar.txt) reads ODIM composites")
    pytest.importorskip("pysteps", reason="pysteps (requirements-radar.txt) makes S-PROG")
    archive, paths = composites_zip(tmp_path, "odim", frames=8, shape=(130, 220))
    shown = backend.radar_composites(str(archive))
    c, place = shown.comparison, shown.place
    assert c.lead_labels()[:2] == ["+5 min, 01:25 UTC", "+10 min, 01:30 UTC"]  # 5 in (01:00-01:20), 3 to score
    assert c.input_labels()[-1] == "input 5/5, 01:20 UTC" and len(c.truth) == 3
    assert (place.grid, place.block, place.step_minutes, place.provider) == ((130, 220), 1, 5, "EUMETNET OPERA")
    assert f"{place.now:%H:%M}" == "01:20" and 0 <= place.left <= 120
    assert any("EUMETNET OPERA (open data, CC BY 4.0)" in note for note in c.notes) and "CC BY 4.0" in c.credit
    assert any("The wettest 100×100 window at 01:20 UTC" in note for note in c.notes)
    headers, rows, _ = scores_table(c)
    assert BIAS in headers and [row[0] for row in rows] == [
        "ConvLSTM", "optical flow", "persistence", "pysteps S-PROG", "ConvLSTM at pysteps S-PROG's rain amounts"]
    assert (c.forecasts["ConvLSTM"][:, ~c.covered] == 0).all()
    for path in (shown.files.locator, shown.files.diagram, shown.files.grid, *shown.files.downloads):
        assert path.is_file() and path.stat().st_size > 0, path
    locator = np.asarray(Image.open(shown.files.locator).convert("RGB"))
    assert locator.shape == (130, 220, 3) and (locator == BOX).all(-1).any()  # the whole grid, the window outlined
    moved = backend.radar_composites([str(p) for p in paths], window=(10, 0))
    assert (moved.place.top, moved.place.left) == (10, 0)
    np.testing.assert_array_equal(moved.comparison.context, radar_windows.cut(
        composites.read(paths).rain, 10, 0).frames[:5])


def test_radar_composites_without_pysteps_are_scored_at_optical_flows_amounts(backend, tmp_path, monkeypatch):
    pytest.importorskip("h5py", reason="h5py (requirements-radar.txt) reads ODIM composites")
    paths, _ = write_composites(tmp_path, "fmi", frames=7)
    monkeypatch.setitem(sys.modules, "pysteps", None)  # what `import pysteps` meets where it isn't installed
    c = backend.radar_composites([str(p) for p in paths]).comparison
    assert "pysteps S-PROG" not in c.forecasts and "ConvLSTM at optical flow's rain amounts" in c.scores
    assert any("pip install -r requirements-radar.txt" in note for note in c.notes)


def test_bad_radar_composites_get_a_message_for_people(backend, tmp_path):
    with pytest.raises(ValueError, match="Choose radar composite files"):
        backend.radar_composites([])
    paths, _ = write_composites(tmp_path, "fmi", frames=1)
    with pytest.raises(SequenceError, match="one frame"):
        backend.radar_composites([str(p) for p in paths])


def test_the_real_radar_examples_are_made_once_placed_and_credited(backend):
    examples = backend.radar_examples
    assert list(examples) == ["Europe, EUMETNET OPERA, 2024-11-26 01:00–02:00 UTC",
                              "Finland, a rain band, FMI, 2016-09-28 15:05–16:40 UTC"]
    assert backend.radar_examples is examples  # made once
    opera, fmi = examples.values()
    assert opera.comparison.lead_labels()[0] == "+5 min, 01:25 UTC" and len(opera.comparison.truth) == 8
    assert fmi.comparison.lead_labels()[-1] == "+75 min, 16:40 UTC"
    for shown in examples.values():
        assert "CC BY 4.0" in shown.comparison.credit and shown.place.block in (2, 3)
        assert shown.files.locator.is_file() and shown.files.diagram.is_file()
        assert shown.comparison.reference in ("pysteps S-PROG", "optical flow")


@pytest.mark.slow
@needs_real_radar
def test_the_opera_hour_uploaded_as_a_zip(backend, tmp_path):
    archive = tmp_path / "opera.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted((REAL_RADAR / "OPERA/20241126/CIRRUS").glob("*.hdf")):
            z.write(path, path.name)
    shown = backend.radar_composites(str(archive))
    assert shown.comparison.lead_labels()[0] == "+5 min, 01:25 UTC" and shown.place.grid == (2200, 1900)
    assert shown.files.locator.is_file() and any("EUMETNET OPERA" in note for note in shown.comparison.notes)


def test_moving_the_window_does_not_read_the_files_again(backend, tmp_path, monkeypatch):
    paths, _ = write_composites(tmp_path, "fmi", frames=6, shape=(130, 220))
    reads = []
    read = composites.read
    monkeypatch.setattr(composites, "read", lambda files, **kw: reads.append(files) or read(files, **kw))
    first = backend.radar_composites([str(p) for p in paths])
    moved = backend.radar_composites([str(p) for p in paths[::-1]], window=(30, 20))  # the same files, any order
    assert len(reads) == 1 and (moved.place.top, moved.place.left) == (30, 20) != (first.place.top, first.place.left)
    paths[0].write_bytes(paths[0].read_bytes())  # written again: read again
    backend.radar_composites([str(p) for p in paths])
    assert len(reads) == 2
    for _ in range(requests.COMPOSITES_KEPT):  # others' uploads push it out
        backend.radar_composites([str(p) for p in write_composites(tmp_path / str(len(reads)), "fmi", frames=3)[0]])
    backend.radar_composites([str(p) for p in paths])
    assert len(reads) == 2 + requests.COMPOSITES_KEPT + 1


def test_every_example_is_shown_by_its_last_input_frame():
    from convlstm.viz import colors, render

    picture = np.asarray(Image.open(requests.moving_mnist_thumbnail(2015, 2)).convert("L"))
    np.testing.assert_array_equal(picture, render.to_uint8(requests.moving_mnist_sequence(2015, 2, 10)[-1]))
    for path in requests.upload_examples():  # the GIF, the video and the ZIP of pictures
        assert max(Image.open(requests.upload_thumbnail(path)).size) == 64
    for path in requests.RADAR_EXAMPLES:  # in the radar's colours
        picture = np.asarray(Image.open(requests.radar_thumbnail(path)).convert("RGB"))
        assert max(picture.shape[:2]) == 64
        assert {tuple(rgb) for _, rgb in colors.REFLECTIVITY_COLORS} & {tuple(p) for p in picture.reshape(-1, 3)}
