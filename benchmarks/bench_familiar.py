"""Where ``convlstm.data.familiar`` draws its lines: its measurements on the bundled models' training data, on the
bundled examples and on deliberately foreign inputs, and what its checks say of each. Two markdown tables.

    python -m benchmarks.bench_familiar [--sequences 200]   (from the repo root)

Training data: Moving MNIST from the training digits (1, 2 and 3 digits, ``--sequences`` each) and synthetic radar
(``--sequences`` loops), ranges shown as min–max. Foreign inputs, made here: bright shapes on gray or on black,
inverted digits, noise, digits standing still, a smooth gradient; for radar, digits and noise read as radar pictures
(gray 0–255 = 0–60 dBZ), noise in mm/h, and a still gradient picture.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from convlstm.data import composites, familiar, rain, synthetic_radar, uploads
from convlstm.data.mnist import moving_mnist
from convlstm.serve.requests import EXAMPLES, RADAR_EXAMPLES


def shapes(rng, background: float, frames: int = 20, size: int = 64) -> np.ndarray:
    """Three bright discs moving on a uniform background."""
    f = np.full((frames, size, size), background, np.float32)
    start, velocity = rng.uniform(10, size - 10, (3, 2)), rng.normal(0, 2.5, (3, 2))
    for t in range(frames):
        for (y, x) in (start + velocity * t) % size:
            cv2.circle(f[t], (int(x), int(y)), 6, 1.0, -1)
    return f


def span(values: list[float]) -> str:
    return f"{min(values):.3f}–{max(values):.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sequences", type=int, default=200)
    n = p.parse_args().sequences
    rng = np.random.default_rng(0)
    digits = moving_mnist(1, seed=5, num_digits=2, frames=20)[0]

    print("| video input | dark share | bright share | speed (px/frame at 64 px) | the check says |")
    print("|---|---|---|---|---|")
    for count in (1, 2, 3):
        stats = [familiar.moving_mnist_stats(f) for f in moving_mnist(n, seed=11, split="train", num_digits=count,
                                                                      frames=20)]
        flagged = sum(familiar.unlike_moving_mnist(f) is not None
                      for f in moving_mnist(n, seed=11, split="train", num_digits=count, frames=20))
        print(f"| Moving MNIST training, {count} digit(s), {n} sequences | "
              + " | ".join(span([s[k] for s in stats]) for k in ("dark", "ink", "speed"))
              + f" | {flagged} of {n} flagged |")
    video = {path.name: uploads.load_sequence(str(path)).frames for path in sorted(EXAMPLES.glob("moving_mnist*"))}
    video |= {"bright discs on gray": shapes(rng, 0.5), "bright discs on black": shapes(rng, 0.0),
              "inverted digits": 1 - digits, "noise": rng.random((20, 64, 64)).astype(np.float32),
              "digits standing still": np.repeat(digits[:1], 20, 0),
              "a gradient": np.tile(np.linspace(0, 1, 64, dtype=np.float32)[None, None], (20, 64, 1))}
    for name, frames in video.items():
        s = familiar.moving_mnist_stats(frames)
        print(f"| {name} | {s['dark']:.3f} | {s['ink']:.3f} | {s['speed']:.2f} | "
              f"{familiar.unlike_moving_mnist(frames) or 'like its training'} |")

    print("\n| radar input (the 5 input frames) | wet share | heavy share of the rain | smoothness | the check says |")
    print("|---|---|---|---|---|")
    loops = synthetic_radar.radar(n, seed=7, frames=5)
    stats = [familiar.rain_stats(f) for f in loops]
    flagged = sum(familiar.unlike_rain(f) is not None for f in loops)
    print(f"| synthetic radar training, {n} loops | "
          + " | ".join(span([s[k] for s in stats]) for k in ("wet", "heavy", "smoothness"))
          + f" | {flagged} of {n} flagged (the dry ones: no rain) |")
    radar = {title: window.frames[:5] for window, _, title in map(composites.load_window, RADAR_EXAMPLES)}
    pictures = {"digits read as a radar picture": digits, "noise read as a radar picture":
                rng.random((20, 64, 64)).astype(np.float32), "inverted digits read as a radar picture": 1 - digits,
                "a still gradient picture": np.tile(np.linspace(0.2, 0.9, 64, dtype=np.float32)[None, None],
                                                    (20, 64, 1))}
    radar |= {name: rain.rain_from_upload(f, "mm/h", from_pixels=True)[:5] for name, f in pictures.items()}
    radar["noise, 0–20 mm/h"] = rng.random((5, 64, 64)).astype(np.float32) * 20
    for name, rates in radar.items():
        s = familiar.rain_stats(rates)
        print(f"| {name} | {s['wet']:.3f} | {s['heavy']:.3f} | {s['smoothness']:.3f} | "
              f"{familiar.unlike_rain(rates) or 'like rain'} |")


if __name__ == "__main__":
    main()
