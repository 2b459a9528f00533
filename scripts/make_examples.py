"""Write the example uploads the app offers, with the project's own generator and writers.

    python -m scripts.make_examples            # from the repository root → examples/

Each is a 20-frame Moving MNIST sequence of held-out test digits, so the first 10 frames are
the context and the last 10 the ground truth: an animated GIF, a short MP4 (MPEG-4 Part 2,
which OpenCV reads back) and a ZIP of numbered PNG frames. Same seeds → same files.

With ``--radar-data ../shared/radar`` (and pysteps installed) it also writes the radar tab's real
example, ``radar/fmi_2016-09-28.npz``: 20 frames (5-minute steps) of the FMI composite of
2016-09-28 14:45-16:20 UTC as rain rate in mm/h, block-averaged 3×3 (≈ 3 km pixels), the wettest
100×100 window of the evaluation samples that start at 15:05 (see convlstm.data.composites); zero
outside radar coverage, rounded to 0.01 mm/h. Data: Finnish Meteorological Institute, CC BY 4.0 (modified as said).
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
        write_radar_example(Path(args.radar_data), out / "radar")
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


RADAR_EXAMPLE = "fmi_2016-09-28.npz"
RADAR_START = 4  # 15:05 UTC: the rain band well inside the radar's view


def write_radar_example(data: Path, out: Path) -> None:
    from convlstm.data import composites

    source = composites.SOURCES[0]  # FMI 2016-09-28
    rain = composites.read_source(data, source).rain
    sample = next(s for s in composites.samples(rain, source.name) if s.start == RADAR_START)  # the wettest
    out.mkdir(parents=True, exist_ok=True)
    path = out / RADAR_EXAMPLE
    np.savez_compressed(path, frames=sample.frames.round(2).astype(np.float32))  # 0.01 mm/h: far below any threshold
    print(f"{path}: {path.stat().st_size / 1024:.0f} KB (window at row {sample.top}, column {sample.left})")


if __name__ == "__main__":
    main()
