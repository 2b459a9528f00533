"""Moving MNIST: real MNIST digits bouncing in a square frame (Srivastava et al. 2015; Shi et al. 2015).

Digits come from disjoint banks (``assets/mnist_digits.npz``, see ``assets/DIGITS.md``): the
train bank feeds training, the val and test banks feed the fixed evaluation sets, so a model
is never scored on a digit it has seen. Each digit starts at a uniform position, moves in a
direction uniform on the circle at a speed uniform in ``speed`` pixels per frame, bounces off
the walls without ever leaving the frame, and overlapping digits combine by pixel-wise max.

Determinism: every random number is drawn from a CPU ``torch.Generator`` and the trajectories
are computed on the CPU, so a seed gives bit-identical sequences on every device; only the
integer offsets and digit indices travel to the device, where the frames are drawn.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

SPLITS = ("train", "val", "test")
# The paper's setting, the default of every generator here: 20 frames (10 in, 10 out) of 64×64,
# digits moving 2–5 px per frame.
FRAMES, SIZE, SPEED = 20, 64, (2.0, 5.0)
CONTEXT, HORIZON = 10, 10  # the paper's split of a sequence: 10 frames in, 10 to predict
BANK = Path(__file__).parent / "assets" / "mnist_digits.npz"

# The fixed evaluation sets: the paper's 2,000 validation and 3,000 test sequences. The seeds
# are the paper's arXiv number (1506.04214) and its successor; any fixed numbers would do.
VAL_SEED = 150604215
TEST_SEED = 150604214
EVAL_SIZES = {"val": 2000, "test": 3000}
CHUNK = 100  # sequences per independently seeded chunk, so that any prefix of a set is stable

# Full MNIST as IDX files: "val" is the last 5,000 images of the training file (a tail slice,
# so train and val never share an image), "train" the rest (55,000), "test" the t10k file.
IDX_FILES = {"train": "train-images-idx3-ubyte", "test": "t10k-images-idx3-ubyte"}
IDX_VAL_SIZE = 5000


def load_digit_bank(split: str = "train", path: str | Path | None = None) -> np.ndarray:
    """Digit images of one split, uint8 (N, 28, 28).

    ``path``: ``None`` for the bundled 5,000-digit bank; a ``.npz`` with ``train``, ``val`` and
    ``test`` arrays like it; or a folder holding the full MNIST ``train-images-idx3-ubyte`` and
    ``t10k-images-idx3-ubyte`` files (optionally ``.gz``), or one of those files.
    """
    _check_split(split, SPLITS)
    path = BANK if path is None else Path(path)
    if path.suffix == ".npz":
        with np.load(path) as bank:
            if split not in bank:
                raise ValueError(f"{path} has no {split!r} array; it holds {sorted(bank.files)}")
            return bank[split]
    folder = path.parent if path.is_file() else path
    images = _read_idx(_find_idx(folder, IDX_FILES["test" if split == "test" else "train"]))
    if split == "test":
        return images
    if len(images) <= IDX_VAL_SIZE:
        raise ValueError(f"the IDX training file has {len(images)} images; need more than the "
                         f"{IDX_VAL_SIZE} held out for validation")
    return images[-IDX_VAL_SIZE:] if split == "val" else images[:-IDX_VAL_SIZE]


def load_sequences(path: str | Path, n: int | None = None) -> np.ndarray:
    """The standard ``mnist_test_seq.npy`` (or any array laid out like it) as float32
    (N, T, H, W) in [0, 1]. The file is time-major, (T, N, H, W) uint8; ``n`` keeps the first
    n sequences without reading the rest (the file is memory-mapped)."""
    frames = np.load(path, mmap_mode="r")
    if frames.ndim != 4:
        raise ValueError(f"expected a time-major (T, N, H, W) array, got shape {frames.shape}")
    if n is not None:
        _check_positive("n", n)
        frames = frames[:, :n]
    seqs = np.ascontiguousarray(frames.transpose(1, 0, 2, 3), dtype=np.float32)  # (N, T, H, W)
    if frames.dtype == np.uint8:
        seqs /= 255
        return seqs
    if seqs.size and not (seqs.min() >= 0 and seqs.max() <= 1):
        raise ValueError(f"float sequences must lie in [0, 1], got [{seqs.min()}, {seqs.max()}]")
    return seqs


def generate(
    n: int,
    *,
    generator: torch.Generator,
    digits: torch.Tensor,
    num_digits: int = 2,
    frames: int = FRAMES,
    size: int = SIZE,
    speed: tuple[float, float] = SPEED,
    device: torch.device | str | None = None,
    owners: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """n Moving MNIST sequences, float32 (n, frames, size, size) in [0, 1], on ``device``
    (default: the device of ``digits``). ``digits`` is a bank (K, P, P), uint8 0–255 or float
    in [0, 1]; ``generator`` must be a CPU generator (see the module docstring).

    With ``owners`` also which digit each pixel shows, int64 (n, frames, size, size): 0 where no
    digit has ink, else 1 + the index of the digit whose ink is the brightest there (the one the
    max shows); the labels a model learns to tell the digits apart from. The frames are the same."""
    _check_args(n, num_digits, frames, size, speed, digits)
    if generator.device.type != "cpu":
        raise ValueError("generator must be a CPU torch.Generator, so that a seed gives the same "
                         "sequences on every device")
    device = digits.device if device is None else torch.device(device)
    digits = digits.to(device)
    K, P = digits.shape[0], digits.shape[-1]
    D, F, S = num_digits, frames, size

    # Random draws, on the CPU, always in this order.
    which = torch.randint(K, (n, D), generator=generator)  # (n, D)
    span = S - P  # the largest top-left coordinate that keeps a digit inside the frame
    start = torch.rand(n, D, 2, generator=generator) * span  # (n, D, 2) as (row, col)
    angle = torch.rand(n, D, generator=generator) * (2 * math.pi)
    lo, hi = speed
    pace = lo + (hi - lo) * torch.rand(n, D, generator=generator)
    velocity = torch.stack([angle.sin(), angle.cos()], dim=-1) * pace[..., None]  # (n, D, 2)

    # Straight-line motion folded into [0, span] is exactly "reflect the position and reverse
    # that velocity component at each wall": a triangle wave of period 2·span.
    t = torch.arange(F, dtype=torch.float32)[:, None]  # (F, 1)
    free = start[:, :, None] + t * velocity[:, :, None]  # (n, D, F, 2)
    if span > 0:
        folded = span - (span - free.remainder(2 * span)).abs()
    else:
        folded = torch.zeros_like(free)
    offset = _upload(folded.round().long(), device)  # (n, D, F, 2), integers in [0, span]
    which = _upload(which, device)

    # Paste each digit's P×P patch into its frames: scatter along the flattened pixels of each
    # frame, into a contiguous tensor (a scatter into overlapping unfold() windows is faster on
    # the CPU, but CUDA's deterministic mode would copy those windows out whole).
    out = torch.zeros(n, F, S * S, device=device)  # (n, F, S·S)
    ar = torch.arange(P, device=device)
    pixel = (ar[:, None] * S + ar).view(-1)  # (P·P,) flat position of each patch pixel at offset 0
    scale = 255 if digits.dtype == torch.uint8 else 1
    owner = torch.zeros(n, F, S * S, dtype=torch.long, device=device) if owners else None
    for d in range(D):
        patch = (digits[which[:, d]].float() / scale).view(n, 1, P * P).expand(n, F, P * P)
        index = (offset[:, d, :, 0] * S + offset[:, d, :, 1])[..., None] + pixel  # (n, F, P·P)
        if owner is not None:
            shown = patch > out.gather(2, index)  # this digit is the brightest here (so far)
            owner.scatter_(2, index, torch.where(shown, d + 1, owner.gather(2, index)))
        if d:
            patch = torch.maximum(out.gather(2, index), patch)
        out.scatter_(2, index, patch)
    if owner is not None:
        return out.view(n, F, S, S), owner.view(n, F, S, S)
    return out.view(n, F, S, S)


def moving_mnist(
    n: int,
    *,
    seed: int,
    split: str = "test",
    num_digits: int = 2,
    frames: int = FRAMES,
    size: int = SIZE,
    speed: tuple[float, float] = SPEED,
    device: torch.device | str = "cpu",
    digits_path: str | Path | None = None,
) -> np.ndarray:
    """n sequences from the ``split`` digit bank, float32 (n, frames, size, size) in [0, 1].

    Made in chunks of 100, each with a generator seeded from (seed, chunk index), so the first
    m sequences are the same whatever n ≥ m is, and memory stays bounded on any device.
    """
    _check_split(split, SPLITS)
    _check_positive("n", n)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    digits = torch.from_numpy(load_digit_bank(split, digits_path)).to(device)
    _check_args(n, num_digits, frames, size, speed, digits)
    out = np.empty((n, frames, size, size), np.float32)
    for chunk, begin in enumerate(range(0, n, CHUNK)):
        generator = torch.Generator().manual_seed(_chunk_seed(seed, chunk))
        # Always a full chunk: a shorter one would draw different random numbers.
        seqs = generate(CHUNK, generator=generator, digits=digits, num_digits=num_digits,
                        frames=frames, size=size, speed=speed)
        out[begin:begin + CHUNK] = seqs[:n - begin].cpu().numpy()
    return out


def evaluation_set(split: str = "test", n: int | None = None, num_digits: int = 2,
                   device: torch.device | str = "cpu") -> np.ndarray:
    """The fixed evaluation set: "test" = 3,000 sequences of test digits (seed TEST_SEED), "val"
    = 2,000 of val digits (seed VAL_SEED); 20 frames of 64×64. ``n`` takes a prefix."""
    _check_split(split, tuple(EVAL_SIZES))
    n = EVAL_SIZES[split] if n is None else n
    _check_positive("n", n)
    if n > EVAL_SIZES[split]:
        raise ValueError(f"the {split} set has {EVAL_SIZES[split]} sequences, asked for {n}")
    seed = TEST_SEED if split == "test" else VAL_SEED
    return moving_mnist(n, seed=seed, split=split, num_digits=num_digits, device=device)


def _upload(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    # From pinned memory the copy is asynchronous: the training loop never waits for the GPU.
    if device.type == "cuda":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)


class MovingMNISTStream:
    """Endless batches of fresh sequences, torch float32 (B, frames, size, size), made on
    ``device`` (the digit bank is uploaded there once). Give each DDP rank its own seed."""

    def __init__(
        self,
        batch_size: int,
        *,
        seed: int,
        split: str = "train",
        num_digits: int = 2,
        frames: int = FRAMES,
        size: int = SIZE,
        speed: tuple[float, float] = SPEED,
        device: torch.device | str = "cpu",
        digits_path: str | Path | None = None,
    ):
        _check_split(split, SPLITS)
        self.digits = torch.from_numpy(load_digit_bank(split, digits_path)).to(device)
        _check_args(batch_size, num_digits, frames, size, speed, self.digits)
        self.batch_size = batch_size
        self.options = dict(num_digits=num_digits, frames=frames, size=size, speed=speed)
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self) -> Iterator[torch.Tensor]:
        return self

    def __next__(self) -> torch.Tensor:
        return generate(self.batch_size, generator=self.generator, digits=self.digits, **self.options)


def _chunk_seed(seed: int, chunk: int) -> int:
    # SeedSequence mixes (seed, chunk) so neighbouring seeds do not give related streams.
    return int(np.random.SeedSequence([seed, chunk]).generate_state(1, np.uint64)[0])


def _check_split(split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"split must be one of {allowed}, got {split!r}")


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _check_args(n, num_digits, frames, size, speed, digits: torch.Tensor) -> None:
    _check_positive("n", n)
    _check_positive("frames", frames)
    if num_digits not in (1, 2, 3):
        raise ValueError(f"num_digits must be 1, 2 or 3, got {num_digits!r}")
    if digits.ndim != 3 or digits.shape[1] != digits.shape[2] or len(digits) == 0:
        raise ValueError(f"digits must be a non-empty bank of square images (K, P, P), got {tuple(digits.shape)}")
    if not isinstance(size, int) or size < digits.shape[-1]:
        raise ValueError(f"size must be an int of at least the digit size {digits.shape[-1]}, got {size!r}")
    try:
        lo, hi = (float(v) for v in speed)
    except (TypeError, ValueError):
        raise ValueError(f"speed must be a (low, high) pair of numbers, got {speed!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 <= lo <= hi):
        raise ValueError(f"speed must satisfy 0 <= low <= high (pixels per frame), got {speed!r}")


def _find_idx(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise ValueError(f"no {stem} or {stem}.gz in {folder} (expected the MNIST IDX files or a .npz bank)")


def _read_idx(path: Path) -> np.ndarray:
    """An IDX image file (http://yann.lecun.com/exdb/mnist/) as uint8 (N, rows, cols)."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    # Header: two zero bytes, type 0x08 (unsigned byte), 3 dimensions, then three big-endian int32.
    if len(raw) < 16 or raw[:4] != b"\x00\x00\x08\x03":
        raise ValueError(f"{path} is not an IDX file of uint8 images (bad header {raw[:4].hex()})")
    shape = tuple(int(v) for v in np.frombuffer(raw, ">i4", count=3, offset=4))
    if len(raw) != 16 + math.prod(shape):
        raise ValueError(f"{path}: header says {shape} images but the file has {len(raw) - 16} pixel bytes")
    return np.frombuffer(raw, np.uint8, offset=16).reshape(shape).copy()  # writable, owns its memory
