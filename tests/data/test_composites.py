"""Radar composites in their publishers' formats: read, in time order, as rain rates, on the model's grid, cut into
windows; every bad upload refused with a message. The files are small crops written here in the original formats
(tests/helpers.py); where the real composites lie beside the repository, they are read too."""

import gzip
import io
import sys
import zipfile
from datetime import timedelta

import numpy as np
import pytest

from convlstm.data import composites, radar_windows
from convlstm.data.limits import SequenceError
from tests.helpers import (
    T0,
    fmi_pgm_bytes,
    knmi_bytes,
    moving_band,
    odim_bytes,
    rain_of,
    write_composites,
)

# --- upload: files, ZIPs, limits and mistakes ------------------------------------------------------------------

def test_a_zip_is_read_in_memory_like_the_files(tmp_path, h5py):
    paths, _ = write_composites(tmp_path / "files", "odim")
    archive = tmp_path / "opera.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in paths[::-1]:
            z.write(p, f"CIRRUS/{p.name}")  # in a folder, in another order
        z.writestr("__MACOSX/CIRRUS/._x.hdf", b"junk")
    from_zip, from_files = composites.read(archive), composites.read(paths)
    np.testing.assert_array_equal(from_zip.rain, from_files.rain)
    assert from_zip.times == from_files.times and from_zip.names[0] == f"opera.zip › {paths[0].name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files", "opera.zip"]  # nothing extracted
    fmi, _ = write_composites(tmp_path / "fmi", "fmi", frames=3)
    with zipfile.ZipFile(tmp_path / "fmi.zip", "w") as z:  # gzipped PGM in a ZIP: files, not archives inside
        for p in fmi:
            z.write(p, p.name)
    assert composites.read(tmp_path / "fmi.zip").names[0] == f"fmi.zip › {fmi[0].name}"
    with zipfile.ZipFile(tmp_path / "nested.zip", "w") as z:
        z.write(archive, "opera.zip")
    with pytest.raises(SequenceError, match="contains another archive .opera.zip."):
        composites.read(tmp_path / "nested.zip")


def test_missing_frames_are_named_and_the_longest_run_is_used(tmp_path, h5py):
    paths, _ = write_composites(tmp_path, "odim", frames=9)
    c = composites.read([p for i, p in enumerate(paths) if i != 2])  # 01:10 missing
    assert [f"{t:%H:%M}" for t in c.times] == ["01:15", "01:20", "01:25", "01:30", "01:35", "01:40"]
    assert any("Frames are missing (01:10 UTC)" in note for note in c.notes)
    latest = composites.read(paths, frames=4)
    assert [f"{t:%H:%M}" for t in latest.times] == ["01:25", "01:30", "01:35", "01:40"]
    assert any("The latest 4 of 9 frames are used" in note for note in latest.notes)


@pytest.mark.parametrize("case, message", [
    ("one frame", "one composite .* one frame: a nowcast needs at least 2"),
    ("hours apart", "3 hours apart .* at most 15 minutes apart"),
    ("uneven", "not evenly spaced: 01:05 to 01:12 UTC is 7 minutes where most are 5"),
    ("twice", "are both of 2024-11-26 01:05 UTC"),
    ("mixed", "is a FMI PGM file, unlike .*ODIM HDF5 by EUMETNET OPERA.*one source"),
    ("another area", "of another area or grid"),
    ("not a composite", "holiday.png: not a radar composite that can be read here. Upload radar composites"),
    ("damaged", "could not be read as HDF5"),
    ("polar volume", "an ODIM PVOL file .* not a composite"),
    ("too large", "a composite of 7000×7000 pixels is too large"),
    ("too small", "a composite of 60×80 pixels is too small"),
    ("plain pgm", "without FMI's radar header"),
])
def test_bad_uploads_get_one_clear_message(tmp_path, h5py, case, message):
    dbz, times = moving_band(5)
    files = {f"{t}.hdf": odim_bytes(frame, time) for t, (frame, time) in enumerate(zip(dbz, times, strict=True))}
    if case == "one frame":
        files = {"0.hdf": files["0.hdf"]}
    elif case == "hours apart":
        files = {f"{t}.hdf": odim_bytes(dbz[t], T0 + timedelta(hours=3 * t)) for t in range(3)}
    elif case == "uneven":
        files["2.hdf"] = odim_bytes(dbz[2], T0 + timedelta(minutes=12))
    elif case == "twice":
        files["2.hdf"] = odim_bytes(dbz[2], times[1])
    elif case == "mixed":
        files["3.pgm.gz"] = fmi_pgm_bytes(dbz[3], times[3])
        del files["3.hdf"]
    elif case == "another area":
        files["3.hdf"] = odim_bytes(dbz[3, :, :150], times[3])
    elif case == "not a composite":
        files["holiday.png"] = b"\x89PNG\r\n\x1a\n" + bytes(100)
    elif case == "damaged":
        files["3.hdf"] = files["3.hdf"][:2000]
    elif case == "polar volume":
        files["3.hdf"] = odim_bytes(dbz[3], times[3]).replace(b"COMP", b"PVOL")
    elif case == "too large":  # a few KB of HDF5 that would expand to 392 MB: refused before it is read
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            f.create_group("what").attrs.update({"date": b"20241126", "time": b"010000", "object": b"COMP"})
            f.create_group("where")
            data = f.create_group("dataset1/data1")
            data.create_group("what").attrs["quantity"] = b"DBZH"
            data.create_dataset("data", shape=(7000, 7000), dtype=np.float64, chunks=(1000, 1000), compression="gzip")
        files["3.hdf"] = buffer.getvalue()
        assert len(files["3.hdf"]) < 100_000
    elif case == "too small":
        files = {f"{t}.hdf": odim_bytes(dbz[t, :80, :60], times[t]) for t in range(3)}
    elif case == "plain pgm":
        files = {"a.pgm": b"P5\n10 10\n255\n" + bytes(100)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    with pytest.raises(SequenceError, match=message):
        composites.read(sorted(tmp_path.iterdir()))


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    big = tmp_path / "big.hdf"
    with open(big, "wb") as file:
        file.truncate(51 * 1024 * 1024)
    with pytest.raises(SequenceError, match="at most 50 MB per file"):
        composites.read([big])


def test_a_gzip_that_would_expand_without_end_is_refused(tmp_path):
    (tmp_path / "bomb.pgm.gz").write_bytes(gzip.compress(b"P5\n# obstime 202411260100\n6000 6000\n255\n"
                                                         + bytes(6000 * 6000 + 2 * 2**20)))
    with pytest.raises(SequenceError, match="expands to more than"):
        composites.read([tmp_path / "bomb.pgm.gz"])


def test_without_h5py_hdf5_files_say_what_to_install(tmp_path, monkeypatch):
    dbz, times = moving_band(2)
    pgm = [tmp_path / f"{t}.pgm.gz" for t in range(2)]
    for path, frame, time in zip(pgm, dbz, times, strict=True):
        path.write_bytes(fmi_pgm_bytes(frame, time))
    (tmp_path / "a.h5").write_bytes(knmi_bytes(np.zeros((130, 160)), T0) if "h5py" not in sys.modules or
                                    sys.modules["h5py"] else b"")
    monkeypatch.setitem(sys.modules, "h5py", None)  # what `import h5py` meets where it isn't installed
    with pytest.raises(SequenceError, match=r"a.h5: reading HDF5 radar composites needs h5py.*"
                                            r"pip install -r requirements-radar.txt"):
        composites.read([tmp_path / "a.h5"])
    assert len(composites.read(pgm).rain) == 2  # FMI's PGM needs nothing more


# --- the model's grid ---------------------------------------------------------------------------------------

def test_read_averages_by_the_measured_motion(tmp_path, h5py):
    paths, dbz = write_composites(tmp_path, "odim", shape=(420, 460), speed=8)
    c = composites.read(paths)
    assert c.block == 4 and c.rain.shape == (6, 105, 115) and c.speed == pytest.approx(8, rel=0.12)
    np.testing.assert_allclose(c.rain, radar_windows.block_average(rain_of(dbz).astype(np.float32), 4), rtol=1e-5)
    assert any("so 4×4 pixels were averaged" in note for note in c.notes)
    assert composites.read(paths, block=2).block == 2  # the evaluation gives its sources' factors


# --- windows ----------------------------------------------------------------------------------------------

def test_the_wettest_well_covered_window_is_chosen_and_can_be_moved(tmp_path, h5py):
    paths, dbz = write_composites(tmp_path, "odim", shape=(130, 220))
    c = composites.read(paths)
    window, notes = composites.choose_window(c)
    found = radar_windows.windows(c.rain, c.context - 1)
    assert (window.top, window.left) == found[0][1:] and found[0][0] == max(f[0] for f in found)
    assert window.frames.shape == (6, 100, 100) and window.mask.mean() >= 0.9
    assert (window.frames[:, ~window.mask] == 0).all() and "The wettest 100×100 window at 01:20 UTC" in notes[0]
    moved, notes = composites.choose_window(c, (-20, -5))  # past the top-left corner: moved inside
    assert (moved.top, moved.left) == (0, 0) and "moved inside the 220×130 grid, to row 0, column 0" in notes[0]
    np.testing.assert_array_equal(moved.frames, radar_windows.cut(c.rain, 0, 0).frames)
    assert composites.choose_window(c, (30, 25))[0].left == 25  # anywhere inside, as asked
    with pytest.raises(SequenceError, match="row 0, column 0 has no rain in its input frames"):
        composites.choose_window(composites.Composite(np.where(np.isnan(c.rain), np.nan, 0), **_rest(c)), (0, 0))
    with pytest.raises(SequenceError, match="outside radar coverage"):
        composites.choose_window(composites.Composite(np.full_like(c.rain, np.nan), **_rest(c)), (0, 0))
    with pytest.raises(SequenceError, match="No 100×100 window of these composites has rain at 01:20 UTC"):
        composites.choose_window(composites.Composite(np.where(np.isnan(c.rain), np.nan, 0.1), **_rest(c)))
    with pytest.raises(ValueError, match="two whole numbers"):
        composites.choose_window(c, ("top", 3))


def _rest(c):
    return {k: getattr(c, k) for k in ("times", "step_minutes", "block", "kind", "provider", "pixel_km", "speed",
                                       "names")}


def test_a_small_radar_network_gets_blocks_its_coverage_can_hold(tmp_path, h5py):
    dbz, times = moving_band(5, (420, 460), 8)
    y, x = np.mgrid[:420, :460]
    dbz = np.where((y - 210) ** 2 + (x - 230) ** 2 < 170**2, np.nan_to_num(dbz, nan=-np.inf), np.nan)
    dbz[:, :, :60] = np.nan  # and none west of the band's start, so the band is inside
    for t, (frame, time) in enumerate(zip(dbz, times, strict=True)):
        (tmp_path / f"{t}.hdf").write_bytes(odim_bytes(frame, time))
    c = composites.read(sorted(tmp_path.glob("*.hdf")))
    wanted = radar_windows.block_for(c.speed, (420, 460))
    assert wanted == 4 and 1 <= c.block < wanted  # a 400-km window would stick out of a 340-km disk
    assert composites.choose_window(c)[0].mask.mean() >= 0.9
    wider = radar_windows.block_average(rain_of(dbz).astype(np.float32), c.block + 1)
    assert not radar_windows.windows(wider, 4)  # one step wider, no window would qualify
    assert any(f"so {c.block}×{c.block} pixels were averaged; 4×4 would leave no 100×100 window" in note
               for note in c.notes)
