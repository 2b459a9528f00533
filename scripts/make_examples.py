"""Write the example uploads the app offers, with the project's own generator and writers.

    python -m scripts.make_examples            # from the repository root → examples/

Each is a 20-frame Moving MNIST sequence of held-out test digits, so the first 10 frames are
the context and the last 10 the ground truth: an animated GIF, a short MP4 (MPEG-4 Part 2,
which OpenCV reads back) and a ZIP of numbered PNG frames. Same seeds → same files.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

from PIL import Image

from convlstm import render
from convlstm.data import moving_mnist

EXAMPLES = {  # file name → (seed, digits)
    "moving_mnist_2digits.gif": (2015, 2),
    "moving_mnist_3digits.mp4": (1506, 3),
    "moving_mnist_frames.zip": (4214, 2),
}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "examples"),
                   help="folder to write the examples into (default: examples/ at the repository root)")
    out = Path(p.parse_args(argv).out)
    out.mkdir(parents=True, exist_ok=True)
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


if __name__ == "__main__":
    main()
