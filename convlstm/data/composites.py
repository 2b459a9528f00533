"""Radar composites as weather services publish them: read, put in time order, brought to the model's grid and
cut into windows, for the evaluation (``samples``) and for the app (``read`` then ``choose_window``) alike.

    composite = read(["T_PABV21_C_EUOC_20241126010000.hdf", ...])   # files or ZIPs of them, paths
    window, notes = choose_window(composite)                         # the wettest well-covered 100×100 window

Formats, told apart by their content (a file's name doesn't matter):
- ODIM HDF5 composites (``what/object`` COMP or IMAGE): EUMETNET OPERA's and most national services'. The
  quantity, in this order of preference: RATE (mm/h); DBZH or TH (dBZ, with the file's own Z–R from
  ``how/zr_a``, ``zr_b``, else Marshall–Palmer Z = 200 R^1.6); ACRR (mm over the product's period). ``gain``
  and ``offset`` applied; ``nodata`` is outside coverage, ``undetect`` is dry. Time: ``what/date``, ``what/time``.
- KNMI HDF5 (``overview``, ``geographic``, ``image1``): accumulated precipitation in mm over the product's
  period (``product_datetime_start`` to ``_end``), or reflectivity in dBZ (Z = 200 R^1.6), by the
  calibration formula the file states; its missing value is outside coverage. Time: ``product_datetime_end``.
- FMI PGM, gzipped or not: 8-bit, dBZ = (value − 64) / 2, FMI's Z = 223 R^1.53; the header's maximum value
  is outside coverage. Time: the header's ``obstime``.
pysteps' importers read the same formats (``import_odim_hdf5``, ``import_knmi_hdf5``, ``import_fmi_pgm``, then
``to_rainrate``); the tests check that this reader gives their rain rates. It is a reader of its own for speed:
pysteps' takes 3.6 s a frame for OPERA's 4400 × 3800 grid (it also reads the quality field, and converts in
float64), this one about 0.5 s. HDF5 needs h5py (``pip install -r requirements-radar.txt``); without it an
HDF5 file gets a ``SequenceError`` saying so. Sizes are checked before anything is decompressed (``limits``).

The rules, one place for the evaluation and the app:
1. Rain rate in mm/h as above, NaN outside coverage.
2. Time (``read``): frames ordered by each file's own time (UTC). Files of different sources (format, provider,
   grid), two files of one time, a single frame, frames more than ``MAX_STEP_MINUTES`` apart or unevenly
   spaced are refused. The step is the most common gap; where frames are missing, the longest run without a gap
   is used (the latest of equals), with a note naming what is missing; of a longer run, the latest ``frames``.
3. Block averaging: the model was trained on rain moving up to 3 px a step, and forecasts real radar best when
   rain moves 1–3 px a step on its grid. ``read`` measures the motion (``measure_speed``: Farnebäck's optical
   flow between the last three input frames, on the field shrunk to at most 512 px a side, the median speed
   of the pixels above 0.5 mm/h) and averages blocks of ``block_for(speed)`` = speed / 2 px, rounded, so that
   rain moves about 2 px a step (at least 1; at most what leaves 100 px a side, and at most what still leaves a
   qualifying window, rule 4, in those frames: wider windows than a small radar network covers fail rule 4's
   coverage). A block is covered only if all its pixels are. The evaluation uses the factors recorded with its
   sources (``SOURCES``), chosen by hand from the same measurement before this rule was written: on those
   composites the rule gives ×2, ×1 and ×4 where they use ×3, ×1 and ×3, all inside 1–3 px a step.
4. Windows (``windows``): 100×100 on a grid of ``stride`` px; a window qualifies when at least ``min_coverage``
   of its pixels are covered in every frame and at least ``min_wet`` of them exceed ``wet`` mm/h in the last
   input frame; wettest first, ties by position, so the same files give the same windows. ``choose_window``
   takes the wettest, or the one a person moved it to.
5. Samples (``samples``, the evaluation): start times every ``every`` frames; each sample is 5 frames in and
   15 out; up to ``per_start`` qualifying windows per start time, no two sharing more than half their area.
6. The coverage mask (covered in every frame of a window) zeroes uncovered pixels in the inputs, the truth
   and every forecast, and the scores leave them out (``convlstm.scoring.metrics.rain_scores``).
"""

from __future__ import annotations

import io
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np

from ..core.values import to_unit
from . import decoders
from .limits import (
    COMPOSITES_SUPPORTED,
    MAX_COMPOSITE_PIXELS,
    MAX_FILES,
    MIN_COMPOSITE_SIDE,
    SequenceError,
    check_composite_size,
    checked_paths,
    failures_as,
    open_zip,
)

CONTEXT, HORIZON, STEP_MINUTES = 5, 15, 5
SIZE = MIN_COMPOSITE_SIDE  # the window, 100×100 pixels of the model's grid
MAX_STEP_MINUTES = 15  # frames further apart are not a nowcast's input (the model was trained on 6-minute steps)
WET = 0.5  # mm/h: rain, for the window rules and for the motion
TARGET_SPEED = 2.0  # px per step on the model's grid (rule 3)
MOTION_SIDE = 512  # px: the motion is measured on the field shrunk to at most this a side
MIN_TRACKED = 50  # pixels of rain needed to measure the motion
MOTION_FRAMES = 3  # the last input frames the motion is measured on
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
GZIP_MAGIC = b"\x1f\x8b"
INSTALL = "pip install -r requirements-radar.txt"
OPERA = "EUMETNET OPERA"
# Whom to credit, and on what terms, by provider; any other provider is credited by the name its files give.
CREDITS = {
    OPERA: "EUMETNET OPERA (open data, CC BY 4.0)",
    "Finnish Meteorological Institute": "Finnish Meteorological Institute (open data, CC BY 4.0)",
    "KNMI": "KNMI, the Royal Netherlands Meteorological Institute (its open-data terms)",
}


# --- the evaluation's sources ---------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    name: str
    folder: str  # below the data folder
    pattern: str
    block: int  # block-averaging factor (rule 3)


SOURCES = (
    Source("FMI 2016-09-28 (rain band)", "fmi/pgm/20160928", "*.pgm.gz", 3),
    Source("FMI 2017-05-09 (showers)", "fmi/pgm/20170509", "*.pgm.gz", 1),
    Source("KNMI 2010-08-26", "KNMI/2010/08", "*.h5", 3),
)


@dataclass(frozen=True)
class Sample:
    source: str
    start: int  # index of the first frame in the source's sequence
    top: int
    left: int
    frames: np.ndarray  # (T, 100, 100) mm/h, 0 outside coverage (T = 20 in the evaluation)
    mask: np.ndarray  # (100, 100) bool: covered in every frame


# --- one file ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    """What one composite file says about itself, read without its data."""
    name: str  # for messages: the file's name (in a ZIP: "upload.zip › member")
    kind: str  # "ODIM HDF5", "KNMI HDF5" or "FMI PGM"
    time: datetime  # UTC: the product's nominal time
    shape: tuple[int, int]  # (H, W) pixels
    provider: str  # who made it, as credited
    grid: str  # projection and extent: files of one composite share it
    pixel_km: float | None  # the size of one pixel, where the file says
    read: Callable[[], np.ndarray] = field(repr=False)  # → (H, W) float32 mm/h, NaN outside coverage


def header(name: str, data: bytes) -> Header:
    """The header of one composite file's bytes, its format told by its content; SequenceError if it is none."""
    if data.startswith(HDF5_MAGIC):
        with _hdf5(name, data) as f:
            if {"overview", "geographic", "image1"} <= set(f):
                return _knmi(name, data, f)
            if "what" in f and "dataset1" in f:
                return _odim(name, data, f)
        raise SequenceError(f"{name}: an HDF5 file, but neither an ODIM composite nor KNMI's. Upload "
                            f"{COMPOSITES_SUPPORTED}.")
    if data.startswith(GZIP_MAGIC):
        data = _gunzip(name, data)
    if data.startswith(b"P5"):
        return _fmi(name, data)
    raise SequenceError(f"{name}: not a radar composite that can be read here. Upload {COMPOSITES_SUPPORTED}.")


@contextmanager
def _hdf5(name: str, data: bytes):
    try:
        import h5py
    except ImportError:
        raise SequenceError(f"{name}: reading HDF5 radar composites needs h5py, which this installation lacks "
                            f"({INSTALL}).") from None
    with failures_as(f"{name}: could not be read as HDF5 (it may be damaged or cut short). Upload it again."):
        f = h5py.File(io.BytesIO(data), "r")
    with f, failures_as(f"{name}: its HDF5 content is not laid out as its format's specification says."):
        yield f


def _text(value) -> str:
    if isinstance(value, np.ndarray):
        value = value.ravel()[0]
    return value.decode("ascii", "replace") if isinstance(value, bytes | np.bytes_) else str(value)


def _number(value) -> float:
    return float(np.asarray(value).ravel()[0])


def _utc(name: str, text: str, pattern: str) -> datetime:
    try:
        return datetime.strptime(text.strip(), pattern).replace(tzinfo=timezone.utc)
    except ValueError:
        raise SequenceError(f"{name}: its time ({text!r}) is not written as its format says.") from None


# ODIM: the quantities read, in the order preferred, and how each becomes mm/h.
ODIM_QUANTITIES = ("RATE", "DBZH", "TH", "ACRR")


def _odim(name: str, data: bytes, f) -> Header:
    what = f["what"].attrs
    kind = _text(what.get("object", b"?"))
    if kind not in ("COMP", "IMAGE"):
        raise SequenceError(f"{name}: an ODIM {kind} file (one radar's own data), not a composite. Upload composites "
                            "(ODIM object COMP, as EUMETNET OPERA publishes them).")
    time = _utc(name, _text(what["date"]) + _text(what["time"])[:6], "%Y%m%d%H%M%S")
    found = {}
    for dataset in sorted((k for k in f if k.startswith("dataset")), key=_index):
        for item in sorted((k for k in f[dataset] if k.startswith("data")), key=_index):
            path = f"{dataset}/{item}"
            quantity = _text(_inherited(f, path, "what", "quantity", b""))
            found.setdefault(quantity, path)
    quantity = next((q for q in ODIM_QUANTITIES if q in found), None)
    if quantity is None:
        raise SequenceError(f"{name}: holds {', '.join(sorted(found)) or 'no quantity'}; rain rate (RATE), "
                            "reflectivity (DBZH, TH) or accumulation (ACRR) is needed.")
    path = found[quantity]
    shape = f[f"{path}/data"].shape
    if len(shape) != 2:
        raise SequenceError(f"{name}: its {quantity} data has {len(shape)} dimensions, not the 2 of a composite.")
    check_composite_size(name, *shape)
    gain, offset = (_number(_inherited(f, path, "what", key, default)) for key, default in (("gain", 1), ("offset", 0)))
    nodata, undetect = (_inherited(f, path, "what", key, None) for key in ("nodata", "undetect"))
    if quantity in ("DBZH", "TH"):
        zr_a, zr_b = (_number(_inherited(f, path, "how", key, default)) for key, default in (("zr_a", 200.0),
                                                                                          ("zr_b", 1.6)))
        convert = from_dbz(zr_a, zr_b)
    elif quantity == "RATE":
        def convert(values):
            return np.maximum(values, 0, out=values)
    else:
        start = _inherited(f, path, "what", "startdate", None), _inherited(f, path, "what", "starttime", None)
        end = _inherited(f, path, "what", "enddate", None), _inherited(f, path, "what", "endtime", None)
        if None in (*start, *end):
            raise SequenceError(f"{name}: an accumulation (ACRR) without its period; rain rate can't be known.")
        minutes = (_utc(name, "".join(map(_text, end)), "%Y%m%d%H%M%S")
                   - _utc(name, "".join(map(_text, start)), "%Y%m%d%H%M%S")).total_seconds() / 60
        if minutes <= 0:
            raise SequenceError(f"{name}: its accumulation period ends before it starts.")

        def convert(values, per_hour=60 / minutes):
            values = np.maximum(values, 0, out=values)
            values *= np.float32(per_hour)
            return values
    where = f["where"].attrs
    grid = " ".join(_text(where.get(k, b"")) for k in ("projdef", "LL_lon", "LL_lat", "UR_lon", "UR_lat"))
    scale = where.get("xscale")
    if scale is None and "dataset1/where" in f:
        scale = f["dataset1/where"].attrs.get("xscale")
    source = _text(what.get("source", b""))
    provider = OPERA if "ORG:247" in source.split(",") else (f"ODIM source {source}" if source else "unknown")

    def rain(raw: np.ndarray) -> np.ndarray:
        values = convert(_scaled(raw, gain, offset))
        if undetect is not None:
            values[raw == np.asarray(undetect).ravel()[0]] = 0
        if nodata is not None:
            values[raw == np.asarray(nodata).ravel()[0]] = np.nan
        return values

    def read() -> np.ndarray:
        with _hdf5(name, data) as g:
            return _array(g[f"{path}/data"], rain)

    return Header(name, "ODIM HDF5", time, tuple(shape), provider, f"ODIM {shape} {grid}",
                  _number(scale) / 1000 if scale is not None else None, read)


def _array(dataset, rain: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``rain`` (stored values → float32 mm/h) of an HDF5 dataset's values. OPERA's 4400 × 3800 float64 frame is
    134 MB inflated from 3 MB, and inflating and converting it is most of the time a composite takes to read: a
    dataset in chunks compressed with deflate alone is inflated by zlib and converted a chunk at a time, on two
    threads (zlib and numpy let go of Python's lock, HDF5 doesn't), and no float64 copy of the whole frame is
    made. Any other layout is read by HDF5 itself, then converted."""
    plist = dataset.id.get_create_plist()
    filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
    if dataset.chunks is None or filters != [1] or dataset.dtype.kind not in "uif" or dataset.ndim != 2:
        return rain(dataset[...])  # filter 1 is H5Z_FILTER_DEFLATE
    out = np.empty(dataset.shape, np.float32)
    rows, columns = dataset.chunks
    chunks = [dataset.id.get_chunk_info(i).chunk_offset for i in range(dataset.id.get_num_chunks())]
    if len(chunks) != -(-out.shape[0] // rows) * -(-out.shape[1] // columns):
        out[...] = rain(np.full(1, dataset.fillvalue, dataset.dtype))[0]  # chunks never written hold the fill value
    packed = [(offset, dataset.id.read_direct_chunk(offset)) for offset in chunks]

    def inflate(item) -> None:
        (top, left), (skipped, compressed) = item
        chunk = compressed if skipped else zlib.decompress(compressed)  # skipped: stored without deflate
        chunk = np.frombuffer(chunk, dataset.dtype).reshape(rows, columns)
        height, width = min(rows, out.shape[0] - top), min(columns, out.shape[1] - left)
        out[top:top + height, left:left + width] = rain(chunk[:height, :width])
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(inflate, packed))
    return out


def _scaled(raw: np.ndarray, gain: float, offset: float) -> np.ndarray:
    """raw · gain + offset as a new float32 array, computed in place (a composite frame is 67 MB as float32)."""
    values = raw.astype(np.float32)
    if gain != 1:
        values *= np.float32(gain)
    if offset != 0:
        values += np.float32(offset)
    return values


def _index(key: str) -> int:
    digits = re.sub(r"\D", "", key)
    return int(digits) if digits else 0


def _inherited(f, path: str, group: str, key: str, default):
    """An ODIM attribute from the most specific ``group`` that has it: data, dataset, then the file's root."""
    parts = path.split("/")
    for depth in range(len(parts), -1, -1):
        where = "/".join([*parts[:depth], group])
        if where in f and key in f[where].attrs:
            return f[where].attrs[key]
    return default


def from_dbz(zr_a: float, zr_b: float) -> Callable[[np.ndarray], np.ndarray]:
    """dBZ → mm/h by Z = a R^b (float32: exp of a linear function of dBZ, to a few parts in a million)."""
    slope = np.float32(math.log(10) / (10 * zr_b))
    intercept = np.float32(10 * math.log10(zr_a))

    def convert(dbz: np.ndarray) -> np.ndarray:
        dbz -= intercept
        dbz *= slope
        return np.exp(dbz, out=dbz)
    return convert


def _knmi(name: str, data: bytes, f) -> Header:
    overview, image = f["overview"].attrs, f["image1"]
    end = _utc(name, _text(overview["product_datetime_end"]), "%d-%b-%Y;%H:%M:%S.%f")
    start = _utc(name, _text(overview["product_datetime_start"]), "%d-%b-%Y;%H:%M:%S.%f")
    parameter = _text(image.attrs.get("image_geo_parameter", b""))
    calibration = image["calibration"].attrs
    formula = re.fullmatch(r"\s*GEO\s*=\s*([-+0-9.eE]+)\s*\*\s*PV\s*([-+]\s*[0-9.eE]+)?\s*",
                           _text(calibration.get("calibration_formulas", b"")))
    if formula is None:
        raise SequenceError(f"{name}: its calibration formula can't be read, so its values have no known units.")
    gain, offset = float(formula[1]), float((formula[2] or "0").replace(" ", ""))
    missing = {int(_number(calibration[k])) for k in ("calibration_missing_data", "calibration_out_of_image")
               if k in calibration}
    minutes = (end - start).total_seconds() / 60
    if parameter.startswith("ACCUMULATED_PRECIPITATION"):
        if minutes <= 0:
            raise SequenceError(f"{name}: its accumulation period ends before it starts.")

        def convert(values, per_hour=60 / minutes):
            values *= np.float32(per_hour)
            return values
    elif parameter.startswith("REFLECTIVITY"):
        convert = from_dbz(200.0, 1.6)
    else:
        raise SequenceError(f"{name}: a KNMI product of {parameter or 'unnamed values'}; precipitation or "
                            "reflectivity is needed.")
    shape = image["image_data"].shape
    check_composite_size(name, *shape)
    geographic = f["geographic"]
    grid = " ".join([_text(geographic["map_projection"].attrs.get("projection_proj4_params", b"")),
                     *(str(_number(geographic.attrs[k])) for k in ("geo_column_offset", "geo_row_offset")
                       if k in geographic.attrs)])
    size = geographic.attrs.get("geo_pixel_size_x")
    unit = _text(geographic.attrs.get("geo_dim_pixel", b"KM")).split(",")[0]

    def read() -> np.ndarray:
        with _hdf5(name, data) as g:
            raw = g["image1/image_data"][...]
        values = convert(_scaled(raw, gain, offset))
        values[np.isin(raw, list(missing))] = np.nan
        return values

    return Header(name, "KNMI HDF5", end, tuple(shape), "KNMI", f"KNMI {shape} {grid}",
                  abs(_number(size)) * (1 if unit == "KM" else 0.001) if size is not None else None, read)


FMI_ZR = (223.0, 1.53)


def _fmi(name: str, data: bytes) -> Header:
    """FMI's PGM: "P5", comment lines "# key value ..." (obstime among them), width height, the maximum value."""
    lines, meta = iter(data.split(b"\n", 40)), {}
    fields: list[bytes] = []
    consumed = 0
    for line in lines:
        consumed += len(line) + 1
        if line.startswith(b"#"):
            key, *value = line[1:].decode("ascii", "replace").split()
            if key:
                meta[key] = value
        else:
            fields += line.split()
            if len(fields) >= 4:  # P5, width, height, maximum value: the pixels follow
                break
    try:
        width, height, top = int(fields[1]), int(fields[2]), int(fields[3])
    except (IndexError, ValueError):
        raise SequenceError(f"{name}: a PGM picture whose header can't be read.") from None
    if "obstime" not in meta:
        raise SequenceError(f"{name}: a PGM picture without FMI's radar header (its obstime), so not a composite "
                            "whose time and units are known.")
    if top > 255:
        raise SequenceError(f"{name}: a 16-bit PGM; FMI's radar composites are 8-bit.")
    check_composite_size(name, height, width)
    if len(data) - consumed < width * height:
        raise SequenceError(f"{name}: is cut short ({len(data) - consumed} of {width * height} pixels).")
    time = _utc(name, meta["obstime"][0], "%Y%m%d%H%M")
    levels = np.arange(256, dtype=np.float32)
    lookup = from_dbz(*FMI_ZR)((levels - 64) / 2)  # one rain rate per 8-bit value
    lookup[top] = np.nan  # the header's maximum value: no data (as pysteps reads it)

    def read() -> np.ndarray:
        pixels = np.frombuffer(data, np.uint8, width * height, consumed).reshape(height, width)
        return lookup[pixels]

    grid = " ".join(" ".join(meta.get(k, [])) for k in ("composite_area", "projection_name", "bottomleft", "topright"))
    meters = meta.get("metersperpixel_x")
    return Header(name, "FMI PGM", time, (height, width), "Finnish Meteorological Institute",
                  f"FMI {(height, width)} {grid}", float(meters[0]) / 1000 if meters else None, read)


def _gunzip(name: str, data: bytes) -> bytes:
    """Decompressed, but never beyond what the largest composite needs: a small file can't expand without end."""
    limit = MAX_COMPOSITE_PIXELS + 2**20  # an 8-bit composite at the size limit, and its header
    with failures_as(f"{name}: this gzip file is damaged or cut short. Upload it again."):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, limit)
        if inflater.unconsumed_tail:
            raise SequenceError(f"{name}: expands to more than {limit // 10**6} MB, more than any composite "
                                "that can be read.")
    return out



# --- several files: one composite in time ------------------------------------------------------------

@dataclass
class Composite:
    """Composites of one source, consecutive in time, on the model's grid."""
    rain: np.ndarray  # (T, H, W) float32 mm/h, block-averaged, NaN outside coverage
    times: list[datetime]  # UTC, one per frame, ``step_minutes`` apart
    step_minutes: int
    block: int  # pixels averaged per side of the model's pixel
    kind: str  # format
    provider: str
    pixel_km: float | None  # of the files' own grid
    speed: float | None  # the motion measured, the files' pixels per step (None: given a block, or no rain)
    names: list[str]  # the files used, in time order
    notes: list[str] = field(default_factory=list)

    @property
    def covered(self) -> np.ndarray:
        """(H, W) bool: covered in every frame."""
        return np.isfinite(self.rain).all(axis=0)

    @property
    def context(self) -> int:
        """How many of the frames are the forecast's input (the rest are its truth)."""
        return min(CONTEXT, len(self.rain))

    @property
    def credit(self) -> str:
        return (f"Radar data: {CREDITS.get(self.provider, self.provider)}; modified (rain rate, "
                + (f"{self.block}×{self.block} pixels averaged, " if self.block > 1 else "") + "one window cut)")

    def place(self, window: Sample) -> Place:
        return Place(window.top, window.left, self.rain.shape[1:], self.block,
                     self.pixel_km * self.block if self.pixel_km else None, tuple(self.times), self.step_minutes,
                     self.provider, self.credit)


@dataclass(frozen=True)
class Place:
    """Where and when a window of a composite lies: what its forecast shows besides the frames."""
    top: int  # the window's top-left corner on the composite's grid (the model's, after block averaging)
    left: int
    grid: tuple[int, int]  # (H, W) of that grid: the corner can go from (0, 0) to (H − size, W − size)
    block: int  # the files' pixels averaged per side of one pixel of the grid
    pixel_km: float | None  # one pixel of the grid, where the files say
    times: tuple[datetime, ...]  # UTC, every frame's
    step_minutes: int
    provider: str
    credit: str  # whose data it is, on what terms, and how it was changed
    size: int = SIZE

    @property
    def now(self) -> datetime:
        """When the last input frame was taken."""
        return self.times[min(CONTEXT, len(self.times)) - 1]


def save_window(path: str | Path, window: Sample, place: Place, title: str) -> Path:
    """A window and its place as an .npz whose array ``frames`` any radar upload reads (mm/h, 0 outside coverage,
    rounded to 0.01 mm/h, far below any threshold), with everything ``load_window`` needs beside it."""
    path = Path(path)
    np.savez_compressed(path, frames=window.frames.round(2).astype(np.float32), covered=window.mask,
                        times=np.array([f"{t:%Y-%m-%dT%H:%M}" for t in place.times]), corner=[place.top, place.left],
                        grid=list(place.grid), block=place.block, pixel_km=place.pixel_km or np.nan,
                        step_minutes=place.step_minutes, provider=place.provider, credit=place.credit, title=title)
    return path


def load_window(path: str | Path) -> tuple[Sample, Place, str]:
    """What ``save_window`` wrote: the window, its place and its title."""
    with np.load(path, allow_pickle=False) as saved:
        top, left = (int(v) for v in saved["corner"])
        times = tuple(datetime.fromisoformat(str(t)).replace(tzinfo=timezone.utc) for t in saved["times"])
        km = float(saved["pixel_km"])
        place = Place(top, left, tuple(int(v) for v in saved["grid"]), int(saved["block"]),
                      None if math.isnan(km) else km, times, int(saved["step_minutes"]), str(saved["provider"]),
                      str(saved["credit"]))
        window = Sample(place.provider, 0, top, left, saved["frames"].astype(np.float32), saved["covered"].astype(bool))
        return window, place, str(saved["title"])


def read(files, *, frames: int | None = CONTEXT + HORIZON, block: int | None = None) -> Composite:
    """Composite files (a path or a list of paths: the files, or ZIPs of them) → rain on the model's grid.

    Rules 1–3 of the module docstring: one source; ordered by time; the latest ``frames`` of the longest
    run without a gap (None: all of it); averaged in blocks of ``block`` pixels, or of ``block_for`` the
    motion measured on the last three input frames. Raises SequenceError with a message for the person.
    """
    headers = [header(name, data) for name, data in _contents(files)]
    _one_source(headers)
    chosen, step, notes = _timeline(headers, frames)
    first = chosen[0]
    natives: dict[int, np.ndarray] = {}
    speed = None
    if block is None:
        context = min(CONTEXT, len(chosen))
        measured = range(max(0, context - MOTION_FRAMES), context)
        natives = {i: chosen[i].read() for i in measured}  # read first: the factor must be known to average
        speed = measure_speed([natives[i] for i in measured])
        wanted = block_for(speed, first.shape)
        block = _fitting(wanted, [natives[i] for i in measured])
    rain = np.empty((len(chosen), first.shape[0] // block, first.shape[1] // block), np.float32)
    for i, h in enumerate(chosen):
        rain[i] = block_average(natives.pop(i) if i in natives else h.read(), block)
    span = f"{chosen[0].time:%Y-%m-%d %H:%M}–{chosen[-1].time:%H:%M} UTC"
    size = f" of {first.pixel_km:g} km" if first.pixel_km else ""
    notes.insert(0, f"{len(chosen)} {first.kind} composites by {first.provider}, {first.shape[1]}×{first.shape[0]} "
                    f"pixels{size}, {span} every {step} minutes.")
    if speed is not None:
        km = f" ({speed * first.pixel_km:.1f} km)" if first.pixel_km else ""
        narrower = (f"; {wanted}×{wanted} would leave no {SIZE}×{SIZE} window with rain 90% inside radar coverage"
                    if block < wanted else "")
        notes.append(f"Rain moves about {speed:.1f} pixels{km} a step here, so {block}×{block} pixels were averaged"
                     f"{narrower}: it moves about {speed / block:.1f} px a step on the model's grid, as in its "
                     "training.")
    elif block > 1:
        notes.append(f"{block}×{block} pixels were averaged.")
    return Composite(rain, [h.time for h in chosen], step, block, first.kind, first.provider, first.pixel_km,
                     speed, [h.name for h in chosen], notes)


def _contents(files) -> list[tuple[str, bytes]]:
    """(name, bytes) of every file uploaded, a ZIP's members read in memory (nothing is written to disk)."""
    out = []
    for path in checked_paths(files):
        with open(path, "rb") as file:
            head = file.read(4)
        if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
            with open_zip(path.name, path) as archive:
                for base, info in decoders.zip_members(path.name, archive, "composite files"):
                    out.append((f"{path.name} › {base}", decoders.read_member(path.name, archive, info)))
        else:
            out.append((path.name, path.read_bytes()))
        if len(out) > MAX_FILES:
            raise SequenceError(f"More than {MAX_FILES} files were uploaded; at most {MAX_FILES} can be read at once.")
    if not out:
        raise SequenceError(f"No composite was found in the upload. Upload {COMPOSITES_SUPPORTED}.")
    return out


def _one_source(headers: list[Header]) -> None:
    first = headers[0]
    for other in headers[1:]:
        if (other.kind, other.provider, other.grid) != (first.kind, first.provider, first.grid):
            what = (f"a {other.kind} file" if other.kind != first.kind else
                    f"by {other.provider}" if other.provider != first.provider else "of another area or grid")
            raise SequenceError(f"{other.name} is {what}, unlike {first.name} ({first.kind} by {first.provider}, "
                                f"{first.shape[1]}×{first.shape[0]} pixels). Upload the composites of one source "
                                "only: a forecast follows one radar picture in time.")


def _timeline(headers: list[Header], frames: int | None) -> tuple[list[Header], int, list[str]]:
    """Rule 2: the frames used, in time order, the step in minutes, and the notes for the person."""
    ordered = sorted(headers, key=lambda h: (h.time, h.name))
    if len(ordered) == 1:
        only = ordered[0]
        raise SequenceError(f"{only.name} is one composite ({only.time:%Y-%m-%d %H:%M} UTC), one frame: a nowcast "
                            f"needs at least 2 consecutive ones, best {CONTEXT} (and {HORIZON} more to score it).")
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.time == b.time:
            raise SequenceError(f"{a.name} and {b.name} are both of {a.time:%Y-%m-%d %H:%M} UTC. Upload each time "
                                "once.")
    gaps = [round((b.time - a.time).total_seconds() / 60) for a, b in zip(ordered, ordered[1:], strict=False)]
    counts = Counter(gaps)
    step = min(counts, key=lambda gap: (-counts[gap], gap))  # the most common gap; the shortest of equals
    if step > MAX_STEP_MINUTES or step < 1:
        a, b = next((a, b) for a, b, gap in zip(ordered, ordered[1:], gaps, strict=False) if gap == step)
        raise SequenceError(f"These composites are {_duration(step)} apart ({a.time:%Y-%m-%d %H:%M} and "
                            f"{b.time:%Y-%m-%d %H:%M} UTC): a nowcast needs frames at most {MAX_STEP_MINUTES} minutes "
                            "apart (the model was trained on 6-minute steps). Upload consecutive composites.")
    for a, b, gap in zip(ordered, ordered[1:], gaps, strict=False):
        if gap % step:
            raise SequenceError(f"These composites are not evenly spaced: {a.time:%H:%M} to {b.time:%H:%M} UTC is "
                                f"{_duration(gap)} where most are {step} minutes apart. Upload one time series.")
    runs, run = [], [ordered[0]]
    for h, gap in zip(ordered[1:], gaps, strict=True):
        if gap != step:
            runs.append(run)
            run = []
        run.append(h)
    runs.append(run)
    chosen = max(runs, key=lambda r: (len(r), r[-1].time))
    notes = []
    if len(runs) > 1:
        missing = [f"{a[-1].time + timedelta(minutes=step):%H:%M}" + (
            f"–{b[0].time - timedelta(minutes=step):%H:%M}" if b[0].time - a[-1].time > timedelta(minutes=2 * step)
            else "") for a, b in zip(runs, runs[1:], strict=False)]
        notes.append(f"Frames are missing ({', '.join(missing)} UTC): the longest run without a gap is used, "
                     f"{len(chosen)} frames from {chosen[0].time:%H:%M} to {chosen[-1].time:%H:%M} UTC.")
    if len(chosen) < 2:
        raise SequenceError("No two of these composites are consecutive. Upload a time series without gaps.")
    if frames is not None and len(chosen) > frames:
        notes.append(f"The latest {frames} of {len(chosen)} frames are used: {CONTEXT} as the input and the rest as "
                     "the truth the forecast is scored against.")
        chosen = chosen[-frames:]
    return chosen, step, notes


def _duration(minutes: int) -> str:
    if minutes < 120:
        return f"{minutes} minutes"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} hours"


# --- the model's grid ---------------------------------------------------------------------------------

def block_average(rain: np.ndarray, factor: int) -> np.ndarray:
    """(..., H, W) → (..., H // factor, W // factor): the mean of each block, NaN unless every pixel is covered."""
    if factor == 1:
        return rain
    *lead, H, W = rain.shape
    frames = rain.reshape(-1, H, W)
    out = np.empty((len(frames), H // factor, W // factor), rain.dtype)
    for frame, average in zip(frames, out, strict=True):
        # OpenCV's area resize by a whole factor is the block mean (a NaN anywhere in a block makes it NaN); it
        # reads the cropped view in place.
        average[:] = cv2.resize(frame[:H - H % factor, :W - W % factor], average.shape[::-1],
                                interpolation=cv2.INTER_AREA)
    return out.reshape(*lead, H // factor, W // factor)


def measure_speed(rain) -> float | None:
    """How far rain moves a step, in the frames' own pixels: frames (T ≥ 2, H, W) mm/h, NaN outside coverage →
    the median over the rain (> 0.5 mm/h) of Farnebäck's optical flow between consecutive frames, measured on
    the field shrunk to at most 512 px a side, in the model's dBZ scale; None with too little rain to track."""
    H, W = rain[0].shape
    shrink = max(1, math.ceil(max(H, W) / MOTION_SIDE))
    small = np.nan_to_num(np.stack([block_average(frame, shrink) for frame in rain]), nan=0.0)  # the edge: dry
    gray = np.round(to_unit(small) * 255).astype(np.uint8)
    speeds = []
    for a, b, wet in zip(gray[:-1], gray[1:], small[:-1] > WET, strict=True):
        # OpenCV's sample parameters, with a 15-px window: the bulk motion of rain, not its texture.
        flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        speeds.append(np.hypot(flow[..., 0], flow[..., 1])[wet])
    tracked = np.concatenate(speeds) if speeds else np.empty(0)
    return float(np.median(tracked)) * shrink if tracked.size >= MIN_TRACKED else None


def _fitting(block: int, frames: list[np.ndarray]) -> int:
    """The largest factor up to ``block`` at which a window qualifies (rule 4) in these frames, the last of them the
    last input frame: a larger factor makes the window wider than a small radar network covers. ``block`` itself
    where none qualifies at any factor (no rain: ``choose_window`` says so)."""
    for factor in range(block, 0, -1):
        if windows(np.stack([block_average(frame, factor) for frame in frames]), len(frames) - 1):
            return factor
    return block


def block_for(speed: float | None, shape: tuple[int, int]) -> int:
    """Rule 3: the block factor that makes rain moving ``speed`` px a step move about 2 px a step, at least 1 and
    at most what leaves a window's 100 px a side."""
    if speed is None:
        return 1
    return max(1, min(math.floor(speed / TARGET_SPEED + 0.5), min(shape) // SIZE))


# --- windows ---------------------------------------------------------------------------------------------

def windows(clip: np.ndarray, last: int, *, stride: int = 10, min_coverage: float = 0.9, min_wet: float = 0.05,
            wet: float = WET) -> list[tuple[float, int, int]]:
    """Rule 4: the qualifying 100×100 windows of rain (T, H, W), NaN outside coverage, whose last input frame is
    ``clip[last]``, as (wet fraction, top, left), wettest first, ties by position."""
    T, H, W = clip.shape
    tops, lefts = np.arange(0, H - SIZE + 1, stride), np.arange(0, W - SIZE + 1, stride)
    if not len(tops) or not len(lefts):
        return []
    covered = _window_fractions(np.isfinite(clip).all(axis=0), tops, lefts)
    rainy = _window_fractions(np.nan_to_num(clip[last]) > wet, tops, lefts)
    rows, columns = np.nonzero((covered >= min_coverage) & (rainy >= min_wet))
    found = sorted((-rainy[i, j], int(tops[i]), int(lefts[j])) for i, j in zip(rows, columns, strict=True))
    return [(-fraction, top, left) for fraction, top, left in found]


def _window_fractions(mask: np.ndarray, tops: np.ndarray, lefts: np.ndarray) -> np.ndarray:
    """The fraction of True pixels in each SIZE×SIZE window at (tops × lefts), from one summed-area table."""
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), np.int64)
    table[1:, 1:] = mask.cumsum(axis=0).cumsum(axis=1)
    bottom, right = tops + SIZE, lefts + SIZE
    counts = (table[np.ix_(bottom, right)] - table[np.ix_(tops, right)] - table[np.ix_(bottom, lefts)]
              + table[np.ix_(tops, lefts)])
    return counts / SIZE**2


def cut(rain: np.ndarray, top: int, left: int, source: str = "", start: int = 0) -> Sample:
    """The window at (top, left) of rain (T, H, W), NaN outside coverage: zero where any frame is uncovered."""
    clip = rain[:, top:top + SIZE, left:left + SIZE]
    mask = np.isfinite(clip).all(axis=0)
    return Sample(source, start, top, left, np.where(mask, np.nan_to_num(clip), 0).astype(np.float32), mask)


def choose_window(composite: Composite, origin: tuple[int, int] | None = None) -> tuple[Sample, list[str]]:
    """The window to forecast: the wettest qualifying one (rule 4), or the one whose top-left corner a person
    put at ``origin`` (row, column of the model's grid; moved inside the grid if need be). Raises
    SequenceError where there is no rain to forecast. Returns it and the notes for the person."""
    rain, last = composite.rain, composite.context - 1
    T, H, W = rain.shape
    at = f"{composite.times[last]:%H:%M} UTC"
    if origin is None:
        found = windows(rain, last)
        if not found:
            raise SequenceError(
                f"No {SIZE}×{SIZE} window of these composites has rain at {at} (the last input frame): a "
                f"window needs at least 5% of its pixels above {WET} mm/h, where the radar covers 90% of it. "
                "Upload composites of a rainy time.")
        _, top, left = found[0]
        notes = [f"The wettest {SIZE}×{SIZE} window at {at} is forecast (row {top}, column {left} of the "
                 f"{W}×{H} grid); move it to forecast another."]
    else:
        try:
            top, left = (int(v) for v in origin)
        except (TypeError, ValueError):
            raise ValueError(f"A window's place is its top row and left column, two whole numbers; got {origin!r}.") \
                from None
        notes = []
        inside = min(max(top, 0), H - SIZE), min(max(left, 0), W - SIZE)
        if inside != (top, left):
            notes.append(f"The window was moved inside the {W}×{H} grid, to row {inside[0]}, column {inside[1]}.")
        top, left = inside
    sample = cut(rain, top, left, composite.provider)
    if origin is not None:
        place = f"The window at row {top}, column {left}"
        if not sample.mask.any():
            raise SequenceError(f"{place} lies outside radar coverage. Move it over the radar's picture.")
        if not (sample.frames[:last + 1] > WET).any():
            raise SequenceError(f"{place} has no rain in its input frames, so there is nothing to forecast. Move it "
                                "where the map shows rain.")
    if not sample.mask.all():
        notes.append(f"The radar covers {sample.mask.mean():.0%} of the window; the rest is drawn gray and is not "
                     "scored.")
    return sample, notes


def samples(rain: np.ndarray, source: str = "", *, every: int = 4, stride: int = 10, per_start: int = 4,
            min_coverage: float = 0.9, min_wet: float = 0.05, wet: float = WET) -> list[Sample]:
    """Rule 5: the samples of one source's block-averaged rain (T, H, W), NaN outside coverage."""
    T = len(rain)
    length = CONTEXT + HORIZON
    out = []
    for start in range(0, T - length + 1, every):
        clip = rain[start:start + length]
        chosen: list[tuple[int, int]] = []
        for _, top, left in windows(clip, CONTEXT - 1, stride=stride, min_coverage=min_coverage, min_wet=min_wet,
                                    wet=wet):
            if len(chosen) == per_start:
                break
            if all(abs(top - t) >= SIZE // 2 or abs(left - c) >= SIZE // 2 for t, c in chosen):  # ≤ half shared
                chosen.append((top, left))
        out += [cut(clip, top, left, source, start) for top, left in chosen]
    return out


def read_source(data: Path, source: Source) -> Composite:
    """An evaluation source's composites, all of them, averaged by its recorded factor."""
    files = sorted((Path(data) / source.folder).glob(source.pattern))
    if not files:
        raise FileNotFoundError(f"no {source.pattern} files in {Path(data) / source.folder}")
    return read(files, frames=None, block=source.block)


def all_samples(data: Path) -> list[Sample]:
    return [s for source in SOURCES for s in samples(read_source(data, source).rain, source.name)]
