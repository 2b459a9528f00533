"""Helpers that several test files share (fixtures are in conftest.py): small models, a training config,
frames and files to upload, GIF pages, a synthetic radar composite."""

import io
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlstm import EncoderForecaster

# --- models and a training run ---------------------------------------------------------------------


def small_model(**kwargs):
    config = dict(frame_size=16, patch_size=4, hidden_channels=[6, 5], kernel_size=3)
    return EncoderForecaster(**(config | kwargs))


def tiny_model(autoregressive=True):
    return EncoderForecaster(hidden_channels=[8, 8], kernel_size=3, peephole="channel", autoregressive=autoregressive)


TINY_CONFIG = dict(hidden_channels=[8, 8], kernel_size=3, batch_size=3, eval_sequences=4, progress_bar=False,
                   log_every=100, eval_every=100, warmup_steps=2, lr=3e-3, max_steps=6, device="auto",
                   autoregressive=True, peephole="channel", teacher_forcing_start=0.8, teacher_forcing_until=0.5,
                   data_chunk=2)
# The same small run as command-line flags, for the tests that train through parse_args or `python -m`.
TINY_FLAGS = ["--hidden-channels", "8", "--kernel-size", "3", "--batch-size", "4", "--eval-sequences", "16",
              "--no-progress-bar", "--log-every", "5", "--warmup-steps", "5", "--lr", "1e-2"]


# --- uploads ----------------------------------------------------------------------------------------


T, H, W = 5, 12, 16


def _gray(t=T, h=H, w=W) -> np.ndarray:
    """Distinct uint8 frames: a ramp across, shifted by 40 levels per frame."""
    ramp = np.linspace(0, 150, w)[None, None, :] + np.linspace(0, 30, h)[None, :, None]
    return (ramp + 20 * np.arange(t)[:, None, None]).astype(np.uint8)


def _check(frames: np.ndarray) -> None:
    assert frames.dtype == np.float32 and frames.ndim == 3 and min(frames.shape) >= 1
    assert np.isfinite(frames).all() and frames.min() >= 0 and frames.max() <= 1


def rgb_frames(t=T, h=H, w=W) -> np.ndarray:
    g = _gray(t, h, w).astype(np.int32)
    return np.stack([g, 255 - g, (g * 3) % 256], -1).astype(np.uint8)


def luminance_of(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., :3].astype(np.float64) / 255) @ [0.299, 0.587, 0.114]


def npy_bytes(array, allow_pickle=False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _png_bytes(frame: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _animated_gif_bytes() -> bytes:
    buffer = io.BytesIO()
    images = [Image.fromarray(f) for f in np.random.default_rng(1).integers(0, 255, (8, 32, 32), np.uint8)]
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def _rain(t=4, h=12, w=16) -> np.ndarray:
    """mm/h, mostly dry, up to ~60."""
    rng = np.random.default_rng(0)
    return np.where(rng.random((t, h, w)) < 0.6, 0, rng.gamma(2, 8, (t, h, w))).astype(np.float32)


# --- pictures and radar -----------------------------------------------------------------------------


def frames_of(path) -> list[np.ndarray]:
    gif = Image.open(path)
    out = []
    for t in range(gif.n_frames):
        gif.seek(t)
        out.append(np.asarray(gif.convert("RGB")))
    return out


def synthetic_composite():
    """24 frames of 260×300 rain: a disk of radar coverage, a rain band drifting east inside it."""
    y, x = np.mgrid[:260, :300]
    covered = (y - 130) ** 2 + (x - 150) ** 2 < 120**2
    rain = np.zeros((24, 260, 300), np.float32)
    for t in range(24):
        rain[t] = np.where(np.abs(x - 60 - 3 * t) < 40, 2.0, 0.0) + 0.01 * ((x + y) % 7)
    return np.where(covered, rain, np.nan), covered


# --- radar composites in their publishers' formats ----------------------------------------------------

OPERA_PROJ = "+proj=laea +lat_0=55.0 +lon_0=10.0 +x_0=1950000.0 +y_0=-2100000.0 +units=m +ellps=WGS84"
ODIM_NODATA, ODIM_UNDETECT = -9999000.0, -8888000.0
REAL_RADAR = Path(__file__).resolve().parents[2] / "shared" / "radar"  # real composites, where they lie beside the repo
needs_real_radar = pytest.mark.skipif(not REAL_RADAR.is_dir(),
                                      reason="the real radar composites (shared/radar beside the repo) are absent")
T0 = datetime(2024, 11, 26, 1, 0, tzinfo=timezone.utc)  # the first frame's time in moving_band's composites


def rain_of(dbz, a=200.0, b=1.6):
    """What a dBZ crop holds as rain: Z = a R^b, 0 where undetected, NaN outside coverage."""
    return np.where(np.isneginf(dbz), 0, 10 ** ((np.nan_to_num(dbz, neginf=0) - 10 * np.log10(a)) / (10 * b))) \
        + np.where(np.isnan(dbz), np.nan, 0)


def moving_band(frames=6, shape=(130, 160), speed=4.0, start=None, step_minutes=5):
    """dBZ (T, H, W) of a rain band drifting east ``speed`` px a step (NaN outside a disk of coverage, -inf dry),
    and the frames' times (UTC): what the composite writers below store."""
    from datetime import timedelta

    start = start or T0
    height, width = shape
    y, x = np.mgrid[:height, :width]
    covered = (y - height / 2) ** 2 + (x - width / 2) ** 2 < (0.55 * max(height, width)) ** 2
    dbz = np.full((frames, height, width), -np.inf)
    for t in range(frames):
        centre = 30 + speed * t
        core = np.exp(-((x - centre) / 14) ** 2)  # 45 dBZ in the band's middle, to 18 dBZ at its edges
        texture = 3 * np.sin(y / 5) * np.cos((x - centre) / 4)  # cells that move with the band
        dbz[t] = np.where(core > 0.1, 15 + 30 * core + texture, -np.inf)
    dbz = np.where(covered, dbz, np.nan)
    return dbz, [start + timedelta(minutes=step_minutes * t) for t in range(frames)]


def odim_bytes(dbz, time, *, source="ORG:247", quantity="DBZH", chunks=(64, 48), gain=1.0, offset=0.0,
               dtype=np.float64, how=None) -> bytes:
    """One ODIM HDF5 composite laid out as EUMETNET OPERA's CIRRUS files are: dBZ (H, W), NaN = no data, -inf =
    undetect; ``gain``/``offset`` and an integer ``dtype`` store it as national services' files do."""
    import h5py

    buffer = io.BytesIO()
    floats = np.dtype(dtype).kind == "f"
    nodata, undetect = (ODIM_NODATA, ODIM_UNDETECT) if floats else (255, 0)
    values = (np.nan_to_num(dbz, neginf=0) - offset) / gain
    stored = np.where(np.isnan(dbz), nodata,
                      np.where(np.isneginf(dbz), undetect, values if floats else np.round(values)))
    with h5py.File(buffer, "w") as f:
        f.attrs["Conventions"] = np.bytes_("ODIM_H5/V2_4")
        what = f.create_group("what")
        for key, value in (("date", f"{time:%Y%m%d}"), ("time", f"{time:%H%M%S}"), ("object", "COMP"),
                           ("source", source), ("version", "H5rad 2.4")):
            what.attrs[key] = np.bytes_(value)
        where = f.create_group("where")
        where.attrs["projdef"] = np.bytes_(OPERA_PROJ)
        for key, value in (("LL_lat", 31.75), ("LL_lon", -10.43), ("UR_lat", 67.62), ("UR_lon", 57.81),
                           ("xscale", 1000.0), ("yscale", 1000.0)):
            where.attrs[key] = value
        where.attrs["xsize"], where.attrs["ysize"] = dbz.shape[1], dbz.shape[0]
        if how:
            f.create_group("how").attrs.update(how)
        dataset = f.create_group("dataset1")
        dataset_what = dataset.create_group("what")
        for key, value in (("product", "MAX"), ("startdate", f"{time:%Y%m%d}"), ("enddate", f"{time:%Y%m%d}"),
                           ("starttime", f"{time:%H%M%S}"), ("endtime", f"{time:%H%M%S}")):
            dataset_what.attrs[key] = np.bytes_(value)
        data = dataset.create_group("data1")
        data.create_dataset("data", data=stored.astype(dtype), chunks=chunks, compression="gzip" if chunks else None)
        data_what = data.create_group("what")
        for key, value in (("quantity", np.bytes_(quantity)), ("gain", gain), ("offset", offset),
                           ("nodata", nodata), ("undetect", undetect)):
            data_what.attrs[key] = value
    return buffer.getvalue()


def knmi_bytes(mm, end, *, minutes=5) -> bytes:
    """One KNMI HDF5 composite of rain accumulated over ``minutes`` to ``end``: mm (H, W), NaN = missing."""
    from datetime import timedelta

    import h5py

    buffer = io.BytesIO()
    stamp = "%d-%b-%Y;%H:%M:%S.000"
    with h5py.File(buffer, "w") as f:
        overview = f.create_group("overview")
        overview.attrs["product_datetime_start"] = np.array([(end - timedelta(minutes=minutes)).strftime(stamp).upper()
                                                             .encode()])
        overview.attrs["product_datetime_end"] = np.array([end.strftime(stamp).upper().encode()])
        geographic = f.create_group("geographic")
        for key, value in (("geo_column_offset", 0.0), ("geo_row_offset", 3650.0), ("geo_pixel_size_x", 1.0),
                           ("geo_pixel_size_y", -1.0), ("geo_number_columns", mm.shape[1]),
                           ("geo_number_rows", mm.shape[0])):
            geographic.attrs[key] = np.array([value], np.float32)
        geographic.attrs["geo_dim_pixel"] = np.bytes_("KM,KM")
        geographic.create_group("map_projection").attrs["projection_proj4_params"] = np.bytes_(
            "+proj=stere +lat_0=90 +lon_0=0.0 +lat_ts=60.0 +a=6378.137 +b=6356.752 +x_0=0 +y_0=0")
        image = f.create_group("image1")
        image.attrs["image_geo_parameter"] = np.bytes_("ACCUMULATED_PRECIPITATION_[MM]")
        calibration = image.create_group("calibration")
        calibration.attrs["calibration_formulas"] = np.bytes_("GEO=0.01*PV+0.0")
        calibration.attrs["calibration_missing_data"] = np.array([65535], np.int32)
        calibration.attrs["calibration_out_of_image"] = np.array([65535], np.int32)
        stored = np.where(np.isnan(mm), 65535, np.round(np.nan_to_num(mm) * 100)).astype(np.uint16)
        image.create_dataset("image_data", data=stored, chunks=True, compression="gzip")
    return buffer.getvalue()


def fmi_pgm_bytes(dbz, time, *, gzipped=True) -> bytes:
    """One FMI radar composite as a PGM: dBZ (H, W) stored as 2 · dBZ + 64 in 8 bits, NaN (no data) as 255."""
    import gzip

    height, width = dbz.shape
    header = (f"P5\n# composite_area FIN\n# projection_name SUOMI1\n# obstime {time:%Y%m%d%H%M}\n"
              "# producttype CAPPI\n# metersperpixel_x 999.674053\n# metersperpixel_y 999.62859\n"
              "# projection radar {\n# type stereographic\n# centrallongitude 25\n# centrallatitude 90\n"
              "# truelatitude 60\n# bottomleft 18.600000 57.930000\n# topright 34.903000 69.005000\n"
              f"# }}\n{width} {height}\n255\n").encode()
    pixels = np.where(np.isnan(dbz), 255, np.clip(np.round(2 * np.nan_to_num(dbz, neginf=-32) + 64), 0, 254))
    data = header + pixels.astype(np.uint8).tobytes()
    return gzip.compress(data) if gzipped else data


def write_composites(folder, kind="odim", *, names=None, **band):
    """A moving band written as one composite file per frame into ``folder``; returns the paths and the dBZ."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dbz, times = moving_band(**band)
    paths = []
    for t, (frame, time) in enumerate(zip(dbz, times, strict=True)):
        if kind == "odim":
            path, data = folder / f"T_PABV21_C_EUOC_{time:%Y%m%d%H%M%S}.hdf", odim_bytes(frame, time)
        elif kind == "knmi":
            mm = np.where(np.isneginf(frame), 0, 10 ** ((frame - 23.01) / 16) / 12)  # a 5-minute accumulation
            path, data = folder / f"RAD_NL25_RAP_5min_{time:%Y%m%d%H%M}.h5", knmi_bytes(mm, time)
        else:
            path, data = folder / f"{time:%Y%m%d%H%M}_fmi.radar.composite.lowest_FIN_SUOMI1.pgm.gz", \
                fmi_pgm_bytes(frame, time)
        if names:
            path = folder / names[t]
        path.write_bytes(data)
        paths.append(path)
    return paths, dbz


def composites_zip(folder, kind="odim", **band):
    """``write_composites`` into ``folder``/files, zipped as ``folder``/composites.zip, as a person uploads them;
    returns the archive and the files."""
    paths, _ = write_composites(Path(folder) / "files", kind, **band)
    archive = Path(folder) / "composites.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in paths:
            z.write(path, path.name)
    return archive, paths
