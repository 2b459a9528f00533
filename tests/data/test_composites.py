"""Radar composites in their publishers' formats: read, in time order, as rain rates, on the model's grid, cut into
windows; every bad upload refused with a message. The files are small crops written here in the original formats
(tests/helpers.py); where the real composites lie beside the repository, they are read too."""

import gzip
import io
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from convlstm.data import composites
from convlstm.data.limits import SequenceError
from tests.helpers import (
    fmi_pgm_bytes,
    knmi_bytes,
    moving_band,
    odim_bytes,
    synthetic_composite,
    write_composites,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "radar"
T0 = datetime(2024, 11, 26, 1, 0, tzinfo=timezone.utc)


def rain_of(dbz, a=200.0, b=1.6):
    """What a dBZ crop holds as rain: Z = a R^b, 0 where undetected, NaN outside coverage."""
    return np.where(np.isneginf(dbz), 0, 10 ** ((np.nan_to_num(dbz, neginf=0) - 10 * np.log10(a)) / (10 * b))) \
        + np.where(np.isnan(dbz), np.nan, 0)


@pytest.fixture
def h5py():
    return pytest.importorskip("h5py", reason="h5py (requirements-radar.txt) reads HDF5 composites")


# --- each format ------------------------------------------------------------------------------------------

def test_odim_files_are_read_in_time_order_as_rain_rates(tmp_path, h5py):
    paths, dbz = write_composites(tmp_path, "odim")
    shuffled = [paths[i] for i in (3, 0, 5, 1, 4, 2)]  # upload order does not matter: the files' own times do
    c = composites.read(shuffled)
    assert c.times == [T0 + timedelta(minutes=5 * t) for t in range(6)] and c.step_minutes == 5
    assert c.names == [p.name for p in paths] and (c.kind, c.provider) == ("ODIM HDF5", composites.OPERA)
    assert c.block == 1 and c.rain.shape == (6, 130, 160) and c.rain.dtype == np.float32
    np.testing.assert_allclose(c.rain, rain_of(dbz), rtol=1e-5)  # Marshall–Palmer: OPERA's files name no Z–R
    assert np.array_equal(np.isnan(c.rain), np.isnan(dbz))  # no data: outside coverage
    assert (c.rain[np.isneginf(dbz)] == 0).all()  # undetect: dry
    assert "CC BY 4.0" in c.credit and "EUMETNET OPERA" in c.credit
    assert "6 ODIM HDF5 composites by EUMETNET OPERA" in c.notes[0] and "every 5 minutes" in c.notes[0]


def test_odim_stored_as_scaled_integers_with_its_own_z_r_and_unchunked(tmp_path, h5py):
    dbz, times = moving_band(3)
    stored = [odim_bytes(frame, time, dtype=np.uint8, gain=0.5, offset=-32.0, chunks=None, source="NOD:fikor,ORG:86",
                         how={"zr_a": 300.0, "zr_b": 1.4}) for frame, time in zip(dbz, times, strict=True)]
    for t, data in enumerate(stored):
        (tmp_path / f"{t}.h5").write_bytes(data)
    c = composites.read(sorted(tmp_path.glob("*.h5")))
    expected = rain_of(np.where(np.isfinite(dbz), np.round((dbz + 32) / 0.5) * 0.5 - 32, dbz), 300.0, 1.4)
    np.testing.assert_allclose(c.rain, expected, rtol=1e-5)
    assert c.provider == "ODIM source NOD:fikor,ORG:86" and "the provider" not in c.credit


@pytest.mark.parametrize("quantity, scale", [("RATE", 1.0), ("ACRR", 12.0)])
def test_odim_rain_rates_and_accumulations(tmp_path, h5py, quantity, scale):
    rates = np.where(np.arange(130 * 160).reshape(130, 160) % 7 == 0, np.nan, np.linspace(0, 30, 130 * 160)
                     .reshape(130, 160))
    for t in range(2):
        time = T0 + timedelta(minutes=5 * t)
        data = odim_bytes(rates / scale, time, quantity=quantity)
        if quantity == "ACRR":  # 5 minutes accumulated: × 12 is mm/h
            with h5py.File(io.BytesIO(data), "r+") as f:  # written in memory: give the dataset its period
                f["dataset1/what"].attrs["starttime"] = np.bytes_(f"{time - timedelta(minutes=5):%H%M%S}")
                f.flush()
                buffer = f.id.get_file_image()
            data = buffer
        (tmp_path / f"{t}.h5").write_bytes(data)
    c = composites.read(sorted(tmp_path.glob("*.h5")))
    np.testing.assert_allclose(c.rain[0], rates, rtol=1e-5, atol=1e-5)


def test_knmi_accumulations_become_rain_rates(tmp_path, h5py):
    paths, dbz = write_composites(tmp_path, "knmi")
    c = composites.read(paths)
    mm = np.where(np.isneginf(dbz), 0, 10 ** ((np.nan_to_num(dbz, neginf=0) - 23.01) / 16) / 12)
    np.testing.assert_allclose(c.rain, np.where(np.isnan(dbz), np.nan, np.round(mm * 100) / 100 * 12), rtol=1e-5)
    assert (c.kind, c.provider, c.pixel_km) == ("KNMI HDF5", "KNMI", 1.0)
    assert c.times[0] == T0  # the end of the accumulation: its product time


@pytest.mark.parametrize("gzipped", [True, False])
def test_fmi_pgm_with_fmis_own_z_r(tmp_path, gzipped):
    dbz, times = moving_band(2)
    for frame, time in zip(dbz, times, strict=True):
        (tmp_path / f"{time:%H%M}.pgm{'.gz' if gzipped else ''}").write_bytes(fmi_pgm_bytes(frame, time,
                                                                                            gzipped=gzipped))
    c = composites.read(sorted(tmp_path.iterdir()))
    stored = np.round(2 * np.nan_to_num(dbz, neginf=-32) + 64)
    expected = np.where(np.isnan(dbz), np.nan, rain_of((stored - 64) / 2, 223.0, 1.53))
    np.testing.assert_allclose(c.rain, expected, rtol=1e-5)
    assert c.provider == "Finnish Meteorological Institute" and "CC BY 4.0" in c.credit


def test_the_readers_give_pysteps_rain_rates(tmp_path, h5py):
    pytest.importorskip("pysteps", reason="pysteps (requirements-radar.txt) is the reference reader")
    from pysteps import io as pysteps_io
    from pysteps.utils import conversion

    importers = {"odim": lambda p: pysteps_io.import_odim_hdf5(str(p), qty="DBZH"),
                 "knmi": lambda p: pysteps_io.import_knmi_hdf5(str(p), pixelsize=1000.0),
                 "fmi": lambda p: pysteps_io.import_fmi_pgm(str(p), gzipped=True)}
    dbz, times = moving_band(2)
    # Clear air from -32 dBZ up in half-dBZ steps, as OPERA's dry pixels are.
    floor = np.where(np.isneginf(dbz), -32.0 + np.arange(dbz.shape[-1]) % 8 / 2, dbz)
    for kind, importer in importers.items():
        paths, _ = write_composites(tmp_path / kind, kind, frames=2)
        if kind == "odim":
            paths[1].write_bytes(odim_bytes(floor[1], times[1]))
        ours = composites.header(paths[1].name, paths[1].read_bytes()).read()
        values, _, meta = importer(paths[1])
        theirs, _ = conversion.to_rainrate(values, meta)
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), kind
        # pysteps takes each frame's lowest value for nothing (0 mm/h; -32 dBZ is 0.0002 mm/h here) and an ODIM
        # undetect for -30 dBZ (0.0005 mm/h), where this reader takes undetect for nothing and the lowest value
        # as it is. Everything else agrees to float32's precision.
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-3, err_msg=kind)


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason="the real radar composites (shared/radar beside the repo) are absent")
def test_the_real_composites_read_as_pysteps_reads_them(h5py):
    pytest.importorskip("pysteps", reason="pysteps (requirements-radar.txt) is the reference reader")
    from pysteps import io as pysteps_io
    from pysteps.utils import conversion

    cases = {"fmi/pgm/20160928/201609281510_fmi.radar.composite.lowest_FIN_SUOMI1.pgm.gz":
             (lambda p: pysteps_io.import_fmi_pgm(str(p), gzipped=True), "2016-09-28 15:10"),
             "KNMI/2010/08/RAD_NL25_RAP_5min_201008260320.h5":
             (lambda p: pysteps_io.import_knmi_hdf5(str(p), pixelsize=1000.0), "2010-08-26 03:20"),
             "OPERA/20241126/CIRRUS/T_PABV21_C_EUOC_20241126012500.hdf":
             (lambda p: pysteps_io.import_odim_hdf5(str(p), qty="DBZH"), "2024-11-26 01:25")}
    for name, (importer, time) in cases.items():
        head = composites.header(name, (DATA / name).read_bytes())
        assert f"{head.time:%Y-%m-%d %H:%M}" == time
        values, _, meta = importer(DATA / name)
        theirs, _ = conversion.to_rainrate(values, meta)
        ours = head.read()
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), name
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-3, err_msg=name)


@pytest.mark.slow
@pytest.mark.skipif(not DATA.is_dir(), reason="the real radar composites (shared/radar beside the repo) are absent")
def test_the_opera_hour_as_uploaded():
    c = composites.read(sorted((DATA / "OPERA/20241126/CIRRUS").glob("*.hdf")))
    assert len(c.rain) == 13 and c.step_minutes == 5 and f"{c.times[0]:%H:%M}–{c.times[-1]:%H:%M}" == "01:00–02:00"
    assert 1 <= c.speed / c.block <= 3  # rain moves 1–3 px a step on the model's grid
    window, _ = composites.choose_window(c)
    assert window.mask.mean() >= 0.9 and (window.frames[4] > 0.5).mean() >= 0.05


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

def test_block_average_keeps_only_fully_covered_blocks():
    rain = np.arange(2 * 6 * 7, dtype=np.float32).reshape(2, 6, 7)
    rain[0, 0, 0] = np.nan
    out = composites.block_average(rain, 3)
    assert out.shape == (2, 2, 2)
    assert np.isnan(out[0, 0, 0]) and not np.isnan(out[1, 0, 0])
    assert out[0, 1, 1] == pytest.approx(rain[0, 3:6, 3:6].mean())
    np.testing.assert_allclose(composites.block_average(rain[1], 2), rain[1, :6, :6].reshape(3, 2, 3, 2).mean((1, 3)))


@pytest.mark.parametrize("speed, block", [(2, 1), (4, 2), (6, 3), (8, 4)])
def test_the_block_factor_brings_the_measured_motion_to_about_two_pixels_a_step(speed, block):
    dbz, _ = moving_band(4, (420, 460), speed)
    rain = rain_of(dbz)
    measured = composites.measure_speed(list(rain[1:]))
    assert measured == pytest.approx(speed, rel=0.15)  # Farnebäck's flow on the shrunk field, in the files' pixels
    assert composites.block_for(measured, (420, 460)) == block
    assert composites.block_for(measured * 10, (420, 460)) == 4  # never below a window's 100 px a side
    assert composites.measure_speed([np.zeros((200, 200))] * 3) is None  # no rain, no motion: no averaging
    assert composites.block_for(None, (420, 460)) == 1


def test_read_averages_by_the_measured_motion(tmp_path, h5py):
    paths, dbz = write_composites(tmp_path, "odim", shape=(420, 460), speed=8)
    c = composites.read(paths)
    assert c.block == 4 and c.rain.shape == (6, 105, 115) and c.speed == pytest.approx(8, rel=0.12)
    np.testing.assert_allclose(c.rain, composites.block_average(rain_of(dbz).astype(np.float32), 4), rtol=1e-5)
    assert any("so 4×4 pixels were averaged" in note for note in c.notes)
    assert composites.read(paths, block=2).block == 2  # the evaluation gives its sources' factors


# --- windows ----------------------------------------------------------------------------------------------

def test_the_wettest_well_covered_window_is_chosen_and_can_be_moved(tmp_path, h5py):
    paths, dbz = write_composites(tmp_path, "odim", shape=(130, 220))
    c = composites.read(paths)
    window, notes = composites.choose_window(c)
    found = composites.windows(c.rain, c.context - 1)
    assert (window.top, window.left) == found[0][1:] and found[0][0] == max(f[0] for f in found)
    assert window.frames.shape == (6, 100, 100) and window.mask.mean() >= 0.9
    assert (window.frames[:, ~window.mask] == 0).all() and "The wettest 100×100 window at 01:20 UTC" in notes[0]
    moved, notes = composites.choose_window(c, (-20, -5))  # past the top-left corner: moved inside
    assert (moved.top, moved.left) == (0, 0) and "moved inside the 220×130 grid, to row 0, column 0" in notes[0]
    np.testing.assert_array_equal(moved.frames, composites.cut(c.rain, 0, 0).frames)
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


def test_samples_follow_the_rules():
    rain, covered = synthetic_composite()
    found = composites.samples(rain, "synthetic")
    again = composites.samples(rain, "synthetic")
    assert found and [(s.start, s.top, s.left) for s in found] == [(s.start, s.top, s.left) for s in again]
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(found, again, strict=True))  # deterministic
    starts = {}
    for s in found:
        window = (slice(s.top, s.top + 100), slice(s.left, s.left + 100))
        assert s.frames.shape == (20, 100, 100) and s.start % 4 == 0
        assert s.mask.mean() >= 0.9 and np.array_equal(s.mask, covered[window])  # the radar's own coverage
        assert (s.frames[:, ~s.mask] == 0).all()  # nothing outside coverage, in inputs and truth
        assert (s.frames[4] > 0.5).mean() >= 0.05  # rain in the last input frame
        starts.setdefault(s.start, []).append(s)
    for same_start in starts.values():
        assert len(same_start) <= 4
        for i, a in enumerate(same_start):
            for b in same_start[i + 1:]:
                assert abs(a.top - b.top) >= 50 or abs(a.left - b.left) >= 50  # at most half shared
    assert not composites.samples(np.full((24, 260, 300), np.nan, np.float32))  # no coverage, no sample


def test_windows_are_the_ones_a_window_by_window_count_finds():
    rain, _ = synthetic_composite()
    clip = rain[:20]
    covered, wet = np.isfinite(clip).all(0), np.nan_to_num(clip[4]) > 0.5
    expected = sorted((-wet[t:t + 100, c:c + 100].mean(), t, c) for t in range(0, 161, 10) for c in range(0, 201, 10)
                      if covered[t:t + 100, c:c + 100].mean() >= 0.9 and wet[t:t + 100, c:c + 100].mean() >= 0.05)
    assert composites.windows(clip, 4) == [(-f, t, c) for f, t, c in expected]


def test_a_small_radar_network_gets_blocks_its_coverage_can_hold(tmp_path, h5py):
    dbz, times = moving_band(5, (420, 460), 8)
    y, x = np.mgrid[:420, :460]
    dbz = np.where((y - 210) ** 2 + (x - 230) ** 2 < 170**2, np.nan_to_num(dbz, nan=-np.inf), np.nan)
    dbz[:, :, :60] = np.nan  # and none west of the band's start, so the band is inside
    for t, (frame, time) in enumerate(zip(dbz, times, strict=True)):
        (tmp_path / f"{t}.hdf").write_bytes(odim_bytes(frame, time))
    c = composites.read(sorted(tmp_path.glob("*.hdf")))
    wanted = composites.block_for(c.speed, (420, 460))
    assert wanted == 4 and 1 <= c.block < wanted  # a 400-km window would stick out of a 340-km disk
    assert composites.choose_window(c)[0].mask.mean() >= 0.9
    wider = composites.block_average(rain_of(dbz).astype(np.float32), c.block + 1)
    assert not composites.windows(wider, 4)  # one step wider, no window would qualify
    assert any(f"so {c.block}×{c.block} pixels were averaged; 4×4 would leave no 100×100 window" in note
               for note in c.notes)
