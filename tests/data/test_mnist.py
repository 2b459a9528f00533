import gzip
from itertools import pairwise

import numpy as np
import pytest
import torch

from convlstm.data import mnist

SPAN = 64 - 28  # the largest top-left coordinate of a 28×28 digit in a 64×64 frame


def square_bank() -> torch.Tensor:
    # A digit that fills its whole 28×28 patch: its bounding box is exactly where it was pasted.
    return torch.full((1, 28, 28), 255, dtype=torch.uint8)


def test_moving_mnist_shape_dtype_range():
    x = mnist.moving_mnist(3, seed=0, frames=7, size=48)
    assert x.shape == (3, 7, 48, 48) and x.dtype == np.float32
    assert x.min() == 0 and x.max() == 1  # MNIST digits have 0 and 255 pixels


def test_same_seed_same_sequences_different_seed_different():
    a = mnist.moving_mnist(4, seed=1)
    assert np.array_equal(a, mnist.moving_mnist(4, seed=1))
    assert not np.array_equal(a, mnist.moving_mnist(4, seed=2))


def test_split_picks_the_digit_bank():
    assert not np.array_equal(mnist.moving_mnist(2, seed=0, split="train"), mnist.moving_mnist(2, seed=0))


def test_stream_batches_are_fresh_and_reproducible():
    a, b = mnist.MovingMNISTStream(4, seed=5, frames=6), mnist.MovingMNISTStream(4, seed=5, frames=6)
    first = next(a)
    assert first.shape == (4, 6, 64, 64) and first.dtype == torch.float32
    assert torch.equal(first, next(b))
    assert not torch.equal(first, next(a))


@pytest.mark.parametrize("num_digits", [1, 2, 3])
def test_one_to_three_digits(num_digits):
    x = mnist.moving_mnist(2, seed=0, num_digits=num_digits, frames=3)
    assert x.shape == (2, 3, 64, 64) and 0 <= x.min() and x.max() <= 1


def test_a_single_digit_never_leaves_the_frame():
    # Fast digits bounce often; any clipping at a wall would lose ink in that frame.
    x = mnist.moving_mnist(20, seed=3, num_digits=1, frames=30, speed=(8.0, 10.0))
    mass = x.sum(axis=(2, 3))  # (n, frames)
    np.testing.assert_allclose(mass, mass[:, :1].repeat(30, axis=1), rtol=1e-5)


def test_digits_bounce_off_the_walls():
    g = torch.Generator().manual_seed(0)
    x = mnist.generate(64, generator=g, digits=square_bank(), num_digits=1, frames=40, speed=(6.0, 6.0))
    ink = x.amax(dim=2) > 0  # (n, frames, cols): the columns the square covers
    assert bool((x.sum(dim=(2, 3)) == 784).all())  # all of the square in every frame
    left = ink.float().argmax(dim=-1)  # (n, frames) the square's left edge
    assert int(left.min()) >= 0 and int(left.max()) <= SPAN
    step = left.diff(dim=1)  # (n, frames - 1) horizontal velocity
    bounced = 0
    for seq_left, seq_step in zip(left.tolist(), step.tolist(), strict=True):
        moves = [(t, v) for t, v in enumerate(seq_step) if v]  # rounding can make a step 0
        turns = [t for (_, u), (t, v) in pairwise(moves) if u * v < 0]
        for t in turns:  # the velocity reverses only at a wall
            assert min(seq_left[t], SPAN - seq_left[t]) <= 6
        if sum(map(abs, seq_step)) > SPAN + 2:  # travelled farther than the frame is wide
            assert turns, "a digit crossed the frame without bouncing"
            bounced += 1
    assert bounced > 10


def test_float_bank_matches_uint8_bank():
    digits = torch.from_numpy(mnist.load_digit_bank("test")[:50])
    a = mnist.generate(3, generator=torch.Generator().manual_seed(0), digits=digits)
    b = mnist.generate(3, generator=torch.Generator().manual_seed(0), digits=digits.float() / 255)
    assert torch.equal(a, b)


def test_digit_banks_are_disjoint():
    banks = {s: mnist.load_digit_bank(s) for s in mnist.SPLITS}
    assert {s: b.shape for s, b in banks.items()} == {
        "train": (3500, 28, 28), "val": (500, 28, 28), "test": (1000, 28, 28)}
    seen = {s: {im.tobytes() for im in b} for s, b in banks.items()}
    assert all(len(seen[s]) == len(banks[s]) for s in banks)
    assert not seen["train"] & seen["val"] and not seen["train"] & seen["test"] and not seen["val"] & seen["test"]


def test_evaluation_set_prefix_is_stable():
    short = mnist.evaluation_set("val", n=3)
    longer = mnist.evaluation_set("val", n=105)  # crosses a chunk boundary
    assert longer.shape == (105, 20, 64, 64)
    assert np.array_equal(short, longer[:3])
    assert not np.array_equal(short, mnist.evaluation_set("test", n=3))
    with pytest.raises(ValueError, match="2000"):
        mnist.evaluation_set("val", n=2001)


@pytest.mark.parametrize("kwargs", [
    dict(split="validation"), dict(num_digits=0), dict(num_digits=4), dict(size=27), dict(n=0),
    dict(speed=(5.0, 2.0)), dict(speed=(-1.0, 2.0)), dict(speed=(1.0, 2.0, 3.0)), dict(speed=3.0),
    dict(frames=0), dict(seed=-1),
])
def test_bad_arguments_raise_value_error(kwargs):
    args = dict(n=1, seed=0) | kwargs
    with pytest.raises(ValueError):
        mnist.moving_mnist(args.pop("n"), **args)


def test_bad_stream_and_bank_arguments_raise_value_error():
    with pytest.raises(ValueError, match="num_digits"):
        mnist.MovingMNISTStream(2, seed=0, num_digits=4)
    with pytest.raises(ValueError, match="split"):
        mnist.load_digit_bank("dev")
    with pytest.raises(ValueError, match="split"):
        mnist.evaluation_set("train")


def test_load_sequences_time_major(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (5, 3, 8, 8), dtype=np.uint8)  # (T, N, H, W)
    np.save(tmp_path / "seq.npy", frames)
    seqs = mnist.load_sequences(tmp_path / "seq.npy")
    assert seqs.shape == (3, 5, 8, 8) and seqs.dtype == np.float32
    np.testing.assert_allclose(seqs[1, 4], frames[4, 1] / 255, rtol=1e-6)
    assert mnist.load_sequences(tmp_path / "seq.npy", n=2).shape == (2, 5, 8, 8)
    np.save(tmp_path / "flat.npy", frames[0])
    with pytest.raises(ValueError, match="time-major"):
        mnist.load_sequences(tmp_path / "flat.npy")


def write_idx(path, images: np.ndarray) -> None:
    raw = b"\x00\x00\x08\x03" + np.array(images.shape, ">i4").tobytes() + images.tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)


def test_idx_files(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (mnist.IDX_VAL_SIZE + 3, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", train)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", test)
    assert np.array_equal(mnist.load_digit_bank("train", tmp_path), train[:3])
    assert np.array_equal(mnist.load_digit_bank("val", tmp_path), train[3:])
    assert np.array_equal(mnist.load_digit_bank("test", tmp_path / "t10k-images-idx3-ubyte"), test)
    x = mnist.moving_mnist(2, seed=0, digits_path=tmp_path, frames=2)
    assert x.shape == (2, 2, 64, 64)

    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + bytes(12))
    with pytest.raises(ValueError, match="IDX"):
        mnist.load_digit_bank("test", tmp_path)
    with pytest.raises(ValueError, match="no train-images"):
        mnist.load_digit_bank("train", tmp_path / "elsewhere")


def test_owners_name_the_digit_each_pixel_shows():
    digits = torch.from_numpy(mnist.load_digit_bank("test"))
    frames = mnist.generate(4, generator=torch.Generator().manual_seed(3), digits=digits, num_digits=3)
    same, owners = mnist.generate(4, generator=torch.Generator().manual_seed(3), digits=digits, num_digits=3,
                                  owners=True)
    assert torch.equal(same, frames)  # asking for the labels changes no frame
    assert owners.shape == frames.shape and owners.dtype == torch.int64
    assert torch.equal(owners > 0, frames > 0)  # a label exactly where there is ink
    assert set(owners.unique().tolist()) <= {0, 1, 2, 3}
