"""Real radar composites: read with pysteps' importers, as rain rates, and cut into nowcasting samples.

Needs pysteps (an optional extra: ``pip install -r requirements-dev.txt``).

Samples (``samples``), from each source's 5-minute composites:
1. Rain rate in mm/h with the source's own conversion (pysteps ``to_rainrate``: FMI dBZ with
   Z = 223 R^1.53, KNMI 5-minute accumulations × 12); pixels outside radar coverage are NaN.
2. Block-averaged by the source's factor so that rain moves about 1–3 px a step (FMI 2016-09-28
   and KNMI ×3, FMI 2017-05-09 ×1); a block is covered only if all its pixels are.
3. Start times every ``every`` frames (20 minutes); each sample is 5 frames in, 15 out.
4. Candidate 100×100 windows on a grid of ``stride`` px; a window qualifies when at least
   ``min_coverage`` of its pixels are covered in every one of its 20 frames, and at least
   ``min_wet`` of its pixels exceed ``wet`` mm/h in the last input frame. Up to ``per_start``
   qualifying windows per start time, wettest first, no two sharing more than half their area.
5. The coverage mask (covered in all 20 frames) zeroes uncovered pixels in the inputs, the truth
   and every forecast, so no method is scored where the radar saw nothing.
The rules are deterministic: the same files give the same samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CONTEXT, HORIZON, STEP_MINUTES = 5, 15, 5
SIZE = 100


@dataclass(frozen=True)
class Source:
    name: str
    folder: str  # below the data folder
    pattern: str
    importer: str  # "fmi" or "knmi"
    block: int  # block-averaging factor


SOURCES = (
    Source("FMI 2016-09-28 (rain band)", "fmi/pgm/20160928", "*.pgm.gz", "fmi", 3),
    Source("FMI 2017-05-09 (showers)", "fmi/pgm/20170509", "*.pgm.gz", "fmi", 1),
    Source("KNMI 2010-08-26", "KNMI/2010/08", "*.h5", "knmi", 3),
)


@dataclass(frozen=True)
class Sample:
    source: str
    start: int  # index of the first frame in the source's sequence
    top: int
    left: int
    frames: np.ndarray  # (20, 100, 100) mm/h, 0 outside coverage
    mask: np.ndarray  # (100, 100) bool: covered in every frame


def read_source(data: Path, source: Source) -> np.ndarray:
    """A source's composites as rain rate, float32 (T, H, W) mm/h, NaN outside coverage."""
    from pysteps import io as pysteps_io
    from pysteps.utils import conversion

    files = sorted((Path(data) / source.folder).glob(source.pattern))
    if not files:
        raise FileNotFoundError(f"no {source.pattern} files in {Path(data) / source.folder}")
    frames = []
    for path in files:
        if source.importer == "fmi":
            values, _, meta = pysteps_io.import_fmi_pgm(str(path), gzipped=True)
        else:
            values, _, meta = pysteps_io.import_knmi_hdf5(str(path), pixelsize=1000.0)  # as pysteps' pystepsrc
        rain, _ = conversion.to_rainrate(values, meta)
        frames.append(rain.astype(np.float32))
    return np.stack(frames)


def block_average(rain: np.ndarray, factor: int) -> np.ndarray:
    """(T, H, W) → (T, H // factor, W // factor): the mean of each block, NaN unless every pixel is covered."""
    if factor == 1:
        return rain
    T, H, W = rain.shape
    blocks = rain[:, :H - H % factor, :W - W % factor].reshape(T, H // factor, factor, W // factor, factor)
    return blocks.mean(axis=(2, 4))  # a NaN anywhere in a block makes its mean NaN


def samples(rain: np.ndarray, source: str = "", *, every: int = 4, stride: int = 10, per_start: int = 4,
            min_coverage: float = 0.9, min_wet: float = 0.05, wet: float = 0.5) -> list[Sample]:
    """The samples of one source's block-averaged rain (T, H, W), NaN outside coverage (module docstring)."""
    T, H, W = rain.shape
    length = CONTEXT + HORIZON
    out = []
    for start in range(0, T - length + 1, every):
        clip = rain[start:start + length]
        covered = np.isfinite(clip).all(axis=0)  # (H, W)
        last = np.nan_to_num(clip[CONTEXT - 1]) > wet
        candidates = []
        for top in range(0, H - SIZE + 1, stride):
            for left in range(0, W - SIZE + 1, stride):
                window = (slice(top, top + SIZE), slice(left, left + SIZE))
                wet_fraction = last[window].mean()
                if covered[window].mean() >= min_coverage and wet_fraction >= min_wet:
                    candidates.append((-wet_fraction, top, left))
        chosen: list[tuple[int, int]] = []
        for _, top, left in sorted(candidates):  # wettest first; ties by position, so deterministic
            if len(chosen) == per_start:
                break
            if all(abs(top - t) >= SIZE // 2 or abs(left - c) >= SIZE // 2 for t, c in chosen):  # ≤ half shared
                chosen.append((top, left))
        for top, left in chosen:
            mask = covered[top:top + SIZE, left:left + SIZE]
            frames = np.where(mask, np.nan_to_num(clip[:, top:top + SIZE, left:left + SIZE]), 0).astype(np.float32)
            out.append(Sample(source, start, top, left, frames, mask))
    return out


def all_samples(data: Path) -> list[Sample]:
    return [s for source in SOURCES for s in samples(block_average(read_source(data, source), source.block),
                                                      source.name)]
