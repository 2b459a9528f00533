"""Per-object forecasts: blobs, paths folded at the walls, and digits redrawn where their paths go."""

import numpy as np
import torch

from convlstm.core import objects
from convlstm.data.mnist import load_digit_bank

SPAN = 36  # a 28×28 field in a 64×64 frame


def folded_corners(start, velocity, steps):
    t = torch.arange(steps, dtype=torch.float32)[:, None]
    free = torch.tensor(start, dtype=torch.float32) + t * torch.tensor(velocity, dtype=torch.float32)
    return objects.fold(free, SPAN).round().long().numpy()  # (steps, 2), as the generator rounds


def sequence(paths, digits):
    frames = np.zeros((len(paths[0]), 64, 64), np.float32)
    for path, digit in zip(paths, digits, strict=True):
        for frame, corner in zip(frames, path, strict=True):
            objects.draw(frame, digit, corner)
    return frames


def test_components_label_each_8_connected_piece():
    mask = np.zeros((6, 6), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one piece
    mask[4:6, 4:6] = True
    labels = objects.components(mask)
    assert labels[0, 0] == labels[1, 1] != labels[4, 4]
    assert len(np.unique(labels[mask])) == 2 and (labels[~mask] == 0).all()


def test_draw_pastes_by_max_and_clips_at_the_edges():
    frame = np.full((4, 4), 0.5, np.float32)
    objects.draw(frame, np.array([[1.0, 0.2], [0.2, 0.2]], np.float32), (-1, 3))
    assert frame[0, 3] == 0.5  # 0.2 < 0.5: the max keeps the frame
    frame2 = np.zeros((4, 4), np.float32)
    objects.draw(frame2, np.ones((2, 2), np.float32), (3, 3))
    assert frame2.sum() == 1 and frame2[3, 3] == 1


def test_the_fitted_path_continues_a_bounce_it_has_not_seen():
    corners = folded_corners([30.3, 4.6], [2.7, -3.9], 20)  # bounces on both axes within the horizon
    future = objects.extrapolate(corners[None, :10], 10, 10, SPAN)[0]
    assert np.abs(future - corners[10:]).max() <= 1
    assert np.abs(future - corners[10:]).sum() <= 2  # off by a pixel at most once or twice, by rounding


def test_two_digits_apart_are_redrawn_where_they_go():
    digits = load_digit_bank("test")[:2].astype(np.float32) / 255
    paths = [folded_corners([2.0, 3.0], [0.4, 3.1], 20), folded_corners([34.0, 30.0], [-0.3, -2.6], 20)]
    frames = sequence(paths, digits)
    predicted = objects.forecast_objects(frames[None, :10], 10)[0]
    errors = ((predicted - frames[10:]) ** 2).sum(axis=(1, 2))
    assert (errors < 1e-6).sum() >= 5  # exact at most lead times: the patches are the digits themselves
    assert errors.max() < 60  # elsewhere a digit a pixel off, by rounding


def test_learned_owners_tell_touching_digits_apart():
    digits = load_digit_bank("test")[:2].astype(np.float32) / 255
    paths = [folded_corners([10.0, 4.0], [1.5, 2.5], 20), folded_corners([12.0, 12.0], [1.5, 1.0], 20)]
    frames = sequence(paths, digits)[:10]
    assert all(len(objects.blobs(f, None)) == 1 for f in frames)  # blobs alone can't split them
    owners = np.zeros(frames.shape, np.int64)
    for k, (path, digit) in enumerate(zip(paths, digits, strict=True)):
        for t, corner in enumerate(path[:10]):
            layer = np.zeros((64, 64), np.float32)
            objects.draw(layer, digit, corner)
            owners[t][(layer > objects.INK) & (layer >= frames[t] - 1e-6)] = k + 1
    tracked = objects.track(frames, 2, owners)
    assert len(tracked) == 2
    found = sorted(corners[0].tolist() for _, corners in tracked)
    true = sorted(p[0].tolist() for p in paths)
    # Each digit is followed; where the other hides part of it, its field's corner may be a pixel off.
    assert np.abs(np.array(found) - np.array(true)).max() <= 1


def test_a_lone_digit_stays_one_even_where_the_labels_split_it():
    digit = load_digit_bank("test")[:1].astype(np.float32) / 255
    path = folded_corners([5.0, 8.0], [2.2, 3.4], 20)
    frames = sequence([path], digit)
    halves = np.zeros((10, 64, 64), np.int64)  # labels trained on two digits, splitting the one in two
    halves[:, :, :32], halves[:, :, 32:] = 1, 2
    halves[frames[:10] <= objects.INK] = 0
    tracked = objects.track(frames[:10], 2, halves, blobs_first=True)
    assert len(tracked) == 1  # it moves as one piece: one object, not two halves drifting apart
    predicted = objects.forecast_objects(frames[None, :10], 10, owners=halves[None], blobs_first=True)[0]
    assert ((predicted - frames[10:]) ** 2).sum(axis=(1, 2)).max() < 60


def test_touching_digits_moving_apart_are_not_one_piece():
    digits = load_digit_bank("test")[:2].astype(np.float32) / 255
    paths = [folded_corners([10.0, 4.0], [1.5, 2.5], 20), folded_corners([12.0, 12.0], [1.5, 1.0], 20)]
    assert not objects._moves_rigidly(sequence(paths, digits)[:10])
