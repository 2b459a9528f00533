"""Radar composites as weather services publish them: read, put in time order, brought to the model's grid and
cut into windows, for the evaluation (``samples``) and for the app (``read`` then ``choose_window``) alike.

    composite = read(["T_PABV21_C_EUOC_20241126010000.hdf", ...])   # files or ZIPs of them, paths
    window, notes = choose_window(composite)                         # the wettest well-covered 100×100 window

Formats are ``convlstm.data.radar_files``'; the grid and the windows ``convlstm.data.radar_windows``'.

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

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from .decoders.zips import read_member, zip_members
from .limits import COMPOSITES_SUPPORTED, MAX_FILES, SequenceError, checked_paths, open_zip
from .radar_files import OPERA, Header, header
from .radar_windows import (
    CONTEXT,
    HORIZON,
    SIZE,
    WET,
    Sample,
    block_average,
    block_for,
    cut,
    fitting_block,
    measure_speed,
    samples,
    windows,
)

MAX_STEP_MINUTES = 15  # frames further apart are not a nowcast's input (the model was trained on 6-minute steps)

MOTION_FRAMES = 3  # the last input frames the motion is measured on


# Whom to credit, and on what terms, by provider; any other provider is credited by the name its files give.
CREDITS = {
    OPERA: "EUMETNET OPERA (open data, CC BY 4.0)",
    "Finnish Meteorological Institute": "Finnish Meteorological Institute (open data, CC BY 4.0)",
    "KNMI": "KNMI, the Royal Netherlands Meteorological Institute (its open-data terms)",
}


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
        block = fitting_block(wanted, [natives[i] for i in measured])
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
                for base, info in zip_members(path.name, archive, "composite files"):
                    out.append((f"{path.name} › {base}", read_member(path.name, archive, info)))
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
        share = math.floor(100 * sample.mask.mean())  # down: a window with a gap never reads "100%"
        notes.append(f"The radar covers {share}% of the window; the rest is drawn gray and is not scored.")
    return sample, notes

def read_source(data: Path, source: Source) -> Composite:
    """An evaluation source's composites, all of them, averaged by its recorded factor."""
    files = sorted((Path(data) / source.folder).glob(source.pattern))
    if not files:
        raise FileNotFoundError(f"no {source.pattern} files in {Path(data) / source.folder}")
    return read(files, frames=None, block=source.block)

def all_samples(data: Path) -> list[Sample]:
    return [s for source in SOURCES for s in samples(read_source(data, source).rain, source.name)]
