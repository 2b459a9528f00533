"""One composite file of each format read as its own source says, and as pysteps reads it."""

import io
from datetime import timedelta

import numpy as np
import pytest

from convlstm.data import composites, radar_files
from tests.helpers import (
    REAL_RADAR,
    T0,
    fmi_pgm_bytes,
    moving_band,
    needs_real_radar,
    odim_bytes,
    rain_of,
    write_composites,
)


def test_odim_files_are_read_in_time_order_as_rain_rates(tmp_path, h5py):
    paths, dbz = write_composites(tmp_path, "odim")
    shuffled = [paths[i] for i in (3, 0, 5, 1, 4, 2)]  # upload order does not matter: the files' own times do
    c = composites.read(shuffled)
    assert c.times == [T0 + timedelta(minutes=5 * t) for t in range(6)] and c.step_minutes == 5
    assert c.names == [p.name for p in paths] and (c.kind, c.provider) == ("ODIM HDF5", radar_files.OPERA)
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
        ours = radar_files.header(paths[1].name, paths[1].read_bytes()).read()
        values, _, meta = importer(paths[1])
        theirs, _ = conversion.to_rainrate(values, meta)
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), kind
        # pysteps takes each frame's lowest value for nothing (0 mm/h; -32 dBZ is 0.0002 mm/h here) and an ODIM
        # undetect for -30 dBZ (0.0005 mm/h), where this reader takes undetect for nothing and the lowest value
        # as it is. Everything else agrees to float32's precision.
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-3, err_msg=kind)


@pytest.mark.slow
@needs_real_radar
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
        head = radar_files.header(name, (REAL_RADAR / name).read_bytes())
        assert f"{head.time:%Y-%m-%d %H:%M}" == time
        values, _, meta = importer(REAL_RADAR / name)
        theirs, _ = conversion.to_rainrate(values, meta)
        ours = head.read()
        assert np.array_equal(np.isnan(ours), np.isnan(theirs)), name
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-3, err_msg=name)


@pytest.mark.slow
@needs_real_radar
def test_the_opera_hour_as_uploaded():
    c = composites.read(sorted((REAL_RADAR / "OPERA/20241126/CIRRUS").glob("*.hdf")))
    assert len(c.rain) == 13 and c.step_minutes == 5 and f"{c.times[0]:%H:%M}–{c.times[-1]:%H:%M}" == "01:00–02:00"
    assert 1 <= c.speed / c.block <= 3  # rain moves 1–3 px a step on the model's grid
    window, _ = composites.choose_window(c)
    assert window.mask.mean() >= 0.9 and (window.frames[4] > 0.5).mean() >= 0.05


