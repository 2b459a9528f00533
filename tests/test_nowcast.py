"""Radar skill scores, the radar evaluation, and reading radar uploads (raw numbers → mm/h)."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from convlstm import io, load_model, metrics, nowcast, radar
from convlstm.io import SequenceError
from convlstm.model import EncoderForecaster

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def skill(forecast, truth) -> dict:
    return metrics.summarize(metrics.rain_scores(forecast, truth))


def test_contingency_scores_match_a_hand_counted_table():
    # One 2×4 frame, rain in mm/h. At 0.5 mm/h (strictly greater counts as rain):
    # forecast wet at columns 0-2 of row 0 and column 0 of row 1; observed wet at (0,0), (0,1), (1,0), (1,1).
    # hits (0,0) (0,1) (1,0) = 3; false alarm (0,2) = 1; miss (1,1) = 1.
    forecast = np.array([[[3.0, 1.0, 0.6, 0.5], [2.5, 0.5, 0.0, 0.0]]])
    truth = np.array([[[1.0, 6.0, 0.0, 0.0], [0.7, 2.1, 0.5, 0.4]]])
    s = skill(forecast, truth)["mean"]
    assert s["csi@0.5"] == pytest.approx(3 / 5)
    assert s["pod@0.5"] == pytest.approx(3 / 4)
    assert s["far@0.5"] == pytest.approx(1 / 4)
    # At 2 mm/h: forecast wet (0,0) (1,0); observed wet (0,1) (1,1): no hits, 2 misses, 2 false alarms.
    assert (s["csi@2"], s["pod@2"], s["far@2"]) == (0.0, 0.0, 1.0)
    # At 5 mm/h nothing is forecast: FAR is undefined (NaN), POD is 0 of 1.
    assert np.isnan(s["far@5"]) and s["pod@5"] == 0.0 and s["csi@5"] == 0.0
    assert s["rainfall_mse"] == pytest.approx(((forecast - truth) ** 2).mean())


def test_fss_through_skill_scores_matches_a_hand_worked_case():
    # A 1×3 strip at 1 mm/h: forecast event at x=0, observed at x=1.
    forecast = np.array([[[2.0, 0.0, 0.0]]])
    truth = np.array([[[0.0, 2.0, 0.0]]])
    s = skill(forecast, truth)["mean"]
    assert s["fss1@1"] == pytest.approx(0.0)  # pixelwise: no overlap at all
    # 5×5 windows (zero outside) hold 1 event in 25 pixels wherever the event is within 2 px:
    # F = [1, 1, 1]/25 (every pixel sees x=0), O = [1, 1, 1]/25 (every pixel sees x=1): identical.
    assert s["fss5@1"] == pytest.approx(1.0)


def test_skill_scores_per_lead_time():
    rng = np.random.default_rng(0)
    truth = rng.gamma(0.5, 2.0, (3, 4, 16, 16)).astype(np.float32)
    result = skill(truth, truth)
    assert set(result["per_lead"]) == set(metrics.rain_score_names())
    assert all(len(v) == 4 for v in result["per_lead"].values())
    assert result["mean"]["csi@0.5"] == 1.0 and result["mean"]["far@0.5"] == 0.0
    assert result["mean"]["correlation"] == pytest.approx(1.0)


def _tiny_model(size=32):
    return EncoderForecaster(frame_size=size, patch_size=4, hidden_channels=[4], kernel_size=3,
                             context_frames=3, horizon=4, value_transform="dbz60", step_minutes=6).eval()


def test_evaluate_radar_scores_every_method_and_metric():
    sequences = radar.radar(3, seed=0, frames=7, size=32)
    matched = _tiny_model()
    matched.probability_matching = True
    results = nowcast.evaluate_radar(_tiny_model(), sequences, context=3, horizon=4, chunk=2,
                                     others={"matched": matched})
    assert results["sequences"] == 3 and list(results["methods"]) == [*nowcast.METHODS, "matched"]
    assert results["methods"]["matched"] != results["methods"]["ConvLSTM"]
    for r in results["methods"].values():
        assert set(r["mean"]) == set(metrics.rain_score_names())
        assert all(len(v) == 4 for v in r["per_lead"].values())
    table = nowcast.table_like_paper(results)
    assert "| ConvLSTM |" in table and "Rainfall-MSE" in table and "24 min" in table
    image = nowcast.csi_plot(results)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert (image != 255).any(axis=2).mean() > 0.01  # something is drawn


def test_evaluate_radar_refuses_a_model_of_gray_levels():
    gray = EncoderForecaster(frame_size=32, patch_size=4, hidden_channels=[4], kernel_size=3).eval()
    with pytest.raises(ValueError, match="dbz60"):
        nowcast.evaluate_radar(gray, radar.radar(1, seed=0, frames=7, size=32), context=3, horizon=4)


def read_radar_upload(path, units="mm/h"):
    upload = io.load_sequence(path, raw=True)
    return radar.rain_from_upload(upload.frames, units, from_pixels=upload.from_pixels, name=path.name)


def test_read_radar_upload_arrays_in_mm_h_and_dbz(tmp_path):
    rain = np.array([[[0.0, 0.5], [2.0, 10.0]]] * 3, np.float32)
    np.save(tmp_path / "rain.npy", rain)
    np.testing.assert_allclose(read_radar_upload(tmp_path / "rain.npy", "mm/h"), rain)
    dbz = np.array([[[-np.inf, 20.0], [35.0, 50.0]]] * 3, np.float32)
    np.savez(tmp_path / "dbz.npz", frames=dbz, other=np.zeros(2))
    got = read_radar_upload(tmp_path / "dbz.npz", "dBZ")
    np.testing.assert_allclose(got, radar.dbz_to_rain(dbz), rtol=1e-5)
    assert got[0, 0, 0] == 0.0 and got.shape == (3, 2, 2)


def test_read_radar_upload_gray_gif_maps_pixels_to_dbz(tmp_path):
    levels = [0, 85, 170, 255]  # 0, 20, 40, 60 dBZ
    frames = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in levels]
    frames[0].save(tmp_path / "radar.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    rain = read_radar_upload(tmp_path / "radar.gif", "dBZ")  # units are for arrays; pictures are 0-60 dBZ
    assert rain.shape == (4, 8, 8)
    assert rain[0].max() == 0.0  # pixel 0 is dry
    np.testing.assert_allclose(rain[1:, 0, 0], radar.dbz_to_rain(np.array([20.0, 40.0, 60.0])), rtol=1e-4)


@pytest.mark.parametrize("content, units", [
    (np.array([[[-1.0, 2.0]]] * 2), "mm/h"),  # negative rain
    (np.array([[[np.nan, 2.0]]] * 2), "dBZ"),
    (np.zeros((2, 3, 4, 5, 6)), "mm/h"),  # not frames
    (np.array([[[500.0, 2.0]]] * 2), "dBZ"),  # counts, not dBZ
])
def test_read_radar_upload_refuses_bad_arrays(tmp_path, content, units):
    np.save(tmp_path / "bad.npy", content)
    with pytest.raises(SequenceError):
        read_radar_upload(tmp_path / "bad.npy", units)


def test_read_radar_upload_keeps_evenly_spaced_frames_of_a_long_loop(tmp_path):
    rain = np.arange(150, dtype=np.float32)[:, None, None] * np.ones((1, 4, 4), np.float32)  # frame t holds t mm/h
    np.save(tmp_path / "long.npy", rain)
    upload = io.load_sequence(tmp_path / "long.npy", raw=True)
    kept = radar.rain_from_upload(upload.frames, "mm/h", from_pixels=upload.from_pixels)
    np.testing.assert_array_equal(kept[:, 0, 0], np.arange(0, 150, 2))  # every other one, not the first 100
    assert any("one in every 2" in n for n in upload.notes)


def test_read_radar_upload_refuses_a_damaged_file(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"not numpy at all")
    with pytest.raises(SequenceError):
        read_radar_upload(tmp_path / "bad.npy")
    (tmp_path / "bad.gif").write_bytes(b"GIF89a broken")
    with pytest.raises(SequenceError):
        read_radar_upload(tmp_path / "bad.gif")


def test_the_command_and_the_card_score_the_bundled_model_both_ways(tmp_path):
    from convlstm.inference import RADAR_CHECKPOINT
    from scripts.write_radar_card import main as write_card

    folder = tmp_path / "radar"
    shutil.copytree(RADAR_CHECKPOINT, folder, ignore=shutil.ignore_patterns("real_radar*"))
    nowcast.main(["--model", str(folder), "--n", "4", "--chunk", "2", "--device", "cpu",
                  "--out", str(folder / "evaluation.json")])
    results = json.loads((folder / "evaluation.json").read_text())
    assert results["sequences"] == 4
    matching = load_model(folder).probability_matching
    toggled = f"ConvLSTM {'without' if matching else 'with'} probability matching"
    assert list(results["methods"]) == [*nowcast.METHODS, toggled]
    write_card([str(folder)])
    card = (folder / "README.md").read_text()
    assert ("It is **on**" if matching else "It is **off**") in card and f"| {toggled} |" in card
