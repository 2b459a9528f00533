"""Write the example uploads the app offers, with the project's own generator and writers.

    python -m scripts.make_examples            # from the repository root → examples/

Each is a 20-frame Moving MNIST sequence of held-out test digits, so the first 10 frames are
the context and the last 10 the ground truth: an animated GIF, a short MP4 (MPEG-4 Part 2,
which OpenCV reads back) and a ZIP of numbered PNG frames. Same seeds → same files.

With ``--radar-data ../shared/radar`` (h5py installed: requirements-radar.txt) it also writes the radar tab's real
examples into ``radar/``, each a window of real composites read by ``convlstm.data.composites`` as an upload is
(``save_window``: rain in mm/h, zero outside radar coverage, rounded to 0.01 mm/h, with its times, its place on
the composite and its credit) and its locator map (``NAME_locator.png``): ``opera_2024-11-26.npz``, the 13
EUMETNET OPERA composites of 2024-11-26 01:00-02:00 UTC (CC BY 4.0), block-averaged by the measured motion, the
wettest window; ``fmi_2016-09-28.npz``, 20 frames of the FMI composite of 2016-09-28 15:05-16:40 UTC (CC BY
4.0), block-averaged 3×3 as the evaluation does, the wettest window of the evaluation samples that start at
15:05. Both modified as said. KNMI's composites are left out: their licence is unconfirmed.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from convlstm.data.mnist import moving_mnist
from convlstm.viz import render

EXAMPLES = {  # file name → (seed, digits)
    "moving_mnist_2digits.gif": (2015, 2),
    "moving_mnist_3digits.mp4": (1506, 3),
    "moving_mnist_frames.zip": (4214, 2),
}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "examples"),
                   help="folder to write the examples into (default: examples/ at the repository root)")
    p.add_argument("--radar-data", default=None,
                   help="folder of the real radar composites (fmi/, KNMI/): also write the radar example")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.radar_data:
        write_radar_examples(Path(args.radar_data), out / "radar")
    for name, (seed, digits) in EXAMPLES.items():
        frames = moving_mnist(1, seed=seed, num_digits=digits, frames=20)[0]  # (20, 64, 64)
        path = out / name
        if path.suffix == ".gif":
            render.write_gif(frames, path, fps=4)
        elif path.suffix == ".mp4":
            render.write_mp4(frames, path, fps=4)
        else:
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                for t, frame in enumerate(frames):
                    png = io.BytesIO()
                    Image.fromarray(render.to_uint8(frame)).save(png, format="PNG")
                    archive.writestr(f"frame_{t:02d}.png", png.getvalue())
        print(f"{path}: {path.stat().st_size / 1024:.0f} KB")


# The radar tab's real examples: name → (folder below --radar-data, file pattern, which files, block factor or None
# to measure it, title). FMI's is the evaluation's rain band from 15:05 UTC at its recorded factor; OPERA's is the
# whole hour, read as an upload is.
RADAR_EXAMPLES = {
    "opera_2024-11-26": ("OPERA/20241126/CIRRUS", "*.hdf", slice(None), None,
                         "Europe, EUMETNET OPERA, 2024-11-26 01:00–02:00 UTC"),
    "fmi_2016-09-28": ("fmi/pgm/20160928", "*.pgm.gz", slice(4, 24), 3,
                       "Finland, a rain band, FMI, 2016-09-28 15:05–16:40 UTC"),
}


def write_radar_examples(data: Path, out: Path) -> None:
    from convlstm.data import composites, radar_windows
    from convlstm.viz.maps import locator_map

    out.mkdir(parents=True, exist_ok=True)
    for name, (folder, pattern, files, block, title) in RADAR_EXAMPLES.items():
        composite = composites.read(sorted((data / folder).glob(pattern))[files], frames=None, block=block)
        window, _ = composites.choose_window(composite)  # the wettest well-covered window
        place = composite.place(window)
        path = composites.save_window(out / f"{name}.npz", window, place, title)
        now = np.where(composite.covered, composite.rain[composite.context - 1], np.nan)
        image = locator_map(now, window.top, window.left, radar_windows.SIZE)
        locator = out / f"{name}_locator.png"
        Image.fromarray(image).quantize(64, dither=Image.Dither.NONE).save(locator, optimize=True)  # a few colours
        print(f"{path}: {path.stat().st_size / 1024:.0f} KB, {locator.name} {locator.stat().st_size / 1024:.0f} KB; "
              f"{len(window.frames)} frames {place.times[0]:%Y-%m-%d %H:%M}–{place.times[-1]:%H:%M} UTC, "
              f"{composite.block}×{composite.block} blocks, window at row {window.top}, column {window.left} of "
              f"{place.grid[1]}×{place.grid[0]}")


if __name__ == "__main__":
    main()
