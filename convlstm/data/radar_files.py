"""One radar composite file: its format told by its content, its time, its source and its rain rate.

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
"""

from __future__ import annotations

import io
import math
import re
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from .limits import COMPOSITES_SUPPORTED, MAX_COMPOSITE_PIXELS, SequenceError, check_composite_size, failures_as

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

GZIP_MAGIC = b"\x1f\x8b"

INSTALL = "pip install -r requirements-radar.txt"
OPERA = "EUMETNET OPERA"


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
