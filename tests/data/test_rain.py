"""Rain rates from radar uploads: arrays in mm/h or dBZ, gray pictures as 0-60 dBZ, bad arrays refused."""

import numpy as np
import pytest
from PIL import Image

from convlstm.core import values
from convlstm.data import rain, uploads
from convlstm.data.uploads import SequenceError


def read_radar_upload(path, units="mm/h"):
    upload = uploads.load_sequence(path, raw=True)
    return rain.rain_from_upload(upload.frames, units, from_pixels=upload.from_pixels, name=path.name)


def test_read_radar_upload_arrays_in_mm_h_and_dbz(tmp_path):
    rain = np.array([[[0.0, 0.5], [2.0, 10.0]]] * 3, np.float32)
    np.save(tmp_path / "rain.npy", rain)
    np.testing.assert_allclose(read_radar_upload(tmp_path / "rain.npy", "mm/h"), rain)
    dbz = np.array([[[-np.inf, 20.0], [35.0, 50.0]]] * 3, np.float32)
    np.savez(tmp_path / "dbz.npz", frames=dbz, other=np.zeros(2))
    got = read_radar_upload(tmp_path / "dbz.npz", "dBZ")
    np.testing.assert_allclose(got, values.dbz_to_rain(dbz), rtol=1e-5)
    assert got[0, 0, 0] == 0.0 and got.shape == (3, 2, 2)


def test_read_radar_upload_gray_gif_maps_pixels_to_dbz(tmp_path):
    levels = [0, 85, 170, 255]  # 0, 20, 40, 60 dBZ
    frames = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in levels]
    frames[0].save(tmp_path / "radar.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    rain = read_radar_upload(tmp_path / "radar.gif", "dBZ")  # units are for arrays; pictures are 0-60 dBZ
    assert rain.shape == (4, 8, 8)
    assert rain[0].max() == 0.0  # pixel 0 is dry
    np.testing.assert_allclose(rain[1:, 0, 0], values.dbz_to_rain(np.array([20.0, 40.0, 60.0])), rtol=1e-4)


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
    rates = np.arange(150, dtype=np.float32)[:, None, None] * np.ones((1, 4, 4), np.float32)  # frame t holds t mm/h
    np.save(tmp_path / "long.npy", rates)
    upload = uploads.load_sequence(tmp_path / "long.npy", raw=True)
    kept = rain.rain_from_upload(upload.frames, "mm/h", from_pixels=upload.from_pixels)
    np.testing.assert_array_equal(kept[:, 0, 0], np.arange(0, 150, 2))  # every other one, not the first 100
    assert any("one in every 2" in n for n in upload.notes)


def test_read_radar_upload_refuses_a_damaged_file(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"not numpy at all")
    with pytest.raises(SequenceError):
        read_radar_upload(tmp_path / "bad.npy")
    (tmp_path / "bad.gif").write_bytes(b"GIF89a broken")
    with pytest.raises(SequenceError):
        read_radar_upload(tmp_path / "bad.gif")
