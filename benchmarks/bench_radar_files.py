"""Seconds from radar composite files to a forecast, as the app's backend makes it (``Backend.radar_composites``),
in three stages timed apart: reading (the files → rain on the model's grid, the window chosen, the locator map),
forecasting (the ConvLSTM, optical flow, persistence and S-PROG, and their scores) and drawing (the animation,
the grid, the performance diagram, the downloads). A markdown table.

    python -m benchmarks.bench_radar_files [--data ../shared/radar] [--repeats 3]   (from the repo root)

Uploads: the 13 EUMETNET OPERA files of 2024-11-26 01:00–02:00 UTC as one ZIP (written to a temp folder first,
as a browser would send it), the 40 FMI PGM files of 2016-09-28 and the 92 KNMI HDF5 files of 2010-08-26, the
latest 20 frames of each used. Each upload is timed ``--repeats`` times after one warm-up (the models and pysteps
loaded); the medians are shown, with the load average of the machine, which other jobs share. pysteps' own import,
paid once by an app, is timed apart in a fresh process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import torch

from convlstm.serve.requests import Backend

UPLOADS = {  # name → (folder below --data, pattern, as a ZIP)
    "OPERA, 13 ODIM HDF5 files as a ZIP": ("OPERA/20241126/CIRRUS", "*.hdf", True),
    "FMI, 40 PGM files": ("fmi/pgm/20160928", "*.pgm.gz", False),
    "KNMI, 92 HDF5 files": ("KNMI/2010/08", "*.h5", False),
}
# Where each stage ends: the first progress report of the next stage (convlstm.scoring.compare, serve.pictures).
FORECAST_STARTS, DRAWING_STARTS = "ConvLSTM forecast", "frame grid"


def timed(backend: Backend, files) -> tuple[dict[str, float], object]:
    """Seconds of each stage of one request, and its answer."""
    marks: dict[str, float] = {}

    def progress(fraction: float, text: str) -> None:
        marks.setdefault(text, time.perf_counter())
    start = time.perf_counter()
    shown = backend.radar_composites(files, progress=progress)
    end = time.perf_counter()
    forecast, drawing = marks[FORECAST_STARTS], marks[DRAWING_STARTS]
    return {"reading": forecast - start, "forecasting": drawing - forecast, "drawing": end - drawing,
            "total": end - start}, shown


def pysteps_import_seconds() -> float:
    code = ("import time; start = time.perf_counter(); import pysteps.motion, pysteps.nowcasts; "
            "print(time.perf_counter() - start)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/radar", help="folder of the composites (OPERA/, fmi/, KNMI/)")
    parser.add_argument("--repeats", type=int, default=3, help="timed requests per upload, after one warm-up")
    args = parser.parse_args()
    data = Path(args.data)
    backend = Backend()
    backend.radar  # noqa: B018 (loading is not what is timed)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (where, pattern, zipped) in UPLOADS.items():
            paths = sorted((data / where).glob(pattern))
            if not paths:
                print(f"skipped {name}: no {pattern} in {data / where}", file=sys.stderr)
                continue
            files = [str(p) for p in paths]
            if zipped:
                archive = Path(folder) / f"{Path(where).parts[0].lower()}.zip"
                with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
                    for path in paths:
                        z.write(path, path.name)
                files = str(archive)
            size = sum(Path(f).stat().st_size for f in ([files] if zipped else files)) / 1e6
            timed(backend, files)  # warm-up
            runs = []
            for _ in range(args.repeats):
                seconds, shown = timed(backend, files)
                runs.append(seconds)
            place = shown.place
            median = {stage: statistics.median(run[stage] for run in runs) for stage in runs[0]}
            rows.append(f"| {name} | {size:.1f} | {len(place.times)} | {place.grid[1]}×{place.grid[0]} "
                        f"(×{place.block}) | {median['reading']:.2f} | {median['forecasting']:.2f} | "
                        f"{median['drawing']:.2f} | **{median['total']:.2f}** | "
                        f"{min(run['total'] for run in runs):.2f} |")
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads, torch {torch.__version__}; load "
          f"average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end; medians of "
          f"{args.repeats} requests after a warm-up; pysteps' import in a fresh process: "
          f"{pysteps_import_seconds():.2f} s (once per app)\n")
    print("| upload | MB | frames used | model's grid (block) | reading s | forecasting s | drawing s | total s | "
          "fastest total s |\n|---|---:|---:|---|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
