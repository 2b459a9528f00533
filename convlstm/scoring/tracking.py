"""A classical per-object forecast of Moving MNIST: find each digit, fit its bouncing path, redraw it.

Moving MNIST is drawn by a known rule (``convlstm.data.mnist.generate``): each digit's 28×28 patch
moves at a constant velocity, its top-left corner folded into [0, size − 28] (a bounce when the
patch, not the ink, meets a wall), rounded to whole pixels, and digits combine by pixel-wise max.
This forecast inverts that rule from the context frames alone:

1. segment: in a context frame where the digits' ink is apart, each connected blob is a digit
   (small broken-off strokes are merged into the nearest blob);
2. track: the digit's ink is matched in every other context frame. Digits combine by max, so
   at the true place the frame is at least as bright as the digit everywhere; the match is the
   shift (within a step's reach) that leaves the least of the digit's ink unexplained;
3. place the patch: MNIST centres each digit's centre of mass in its 28×28 field (it lies within
   half a pixel of (14, 14)), so the patch corner is the ink's centre of mass minus 14;
4. appearance: where digits overlap, the frame is the brighter of the two, so the pixel-wise
   minimum of a digit's patch over the context frames is the digit itself wherever some frame
   saw that pixel uncovered;
5. path: per axis, the corner positions are fitted by a straight line folded at the walls,
   searched over the last position (within its rounding) and the velocity; the fit is extended
   over the horizon and the patches are drawn there, combined by max.

It is a reference of what per-object motion can reach, not a learned model: it knows the rule
the data was drawn by. Where no context frame shows the digits apart it falls back to moving the
whole ink by one fitted path.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

PATCH = 28  # MNIST's digit field
CENTRE = 14.0  # where MNIST puts a digit's centre of mass in its field
REACH = 6  # px a digit can move in one frame along an axis: the top speed 5, plus rounding
INK = 0.02  # gray level above which a pixel counts as ink
SMALL_BLOB = 12  # px: blobs smaller than this are broken-off strokes, merged into the nearest digit
VELOCITY_STEP, POSITION_STEP = 0.01, 0.05  # search resolution of the path fit, px/frame and px


def forecast_objects(frames: np.ndarray, horizon: int, num_objects: int | None = 2) -> np.ndarray:
    """Forecasts (N, horizon, H, W) of context frames (N, T, H, W) in [0, 1]; ``num_objects``:
    digits per sequence, or None to take the largest number of blobs seen in two context frames."""
    frames = np.asarray(frames, np.float32)
    tracks = [track(seq, num_objects) for seq in frames]  # per sequence: [(patch, corners (T, 2))]
    corners = [c for objects in tracks for _, c in objects]
    futures = extrapolate(np.stack(corners), frames.shape[1], horizon, frames.shape[-1] - PATCH) if corners else []
    out = np.zeros((len(frames), horizon, *frames.shape[-2:]), np.float32)
    i = 0
    for n, objects in enumerate(tracks):
        for patch, _ in objects:
            for k in range(horizon):
                draw(out[n, k], patch, futures[i][k])
            i += 1
    return out


def draw(frame: np.ndarray, patch: np.ndarray, corner) -> None:
    """Paste ``patch`` with its top-left at ``corner`` into ``frame`` by max, in place (clipped to the frame)."""
    r, c = int(corner[0]), int(corner[1])
    H, W = frame.shape
    h, w = patch.shape
    r0, c0, r1, c1 = max(r, 0), max(c, 0), min(r + h, H), min(c + w, W)
    if r0 < r1 and c0 < c1:
        region = frame[r0:r1, c0:c1]
        np.maximum(region, patch[r0 - r:r1 - r, c0 - c:c1 - c], out=region)


def blobs(frame: np.ndarray, count: int | None) -> list[np.ndarray]:
    """Boolean masks of the ink blobs of one frame, broken strokes merged, largest first; with
    ``count``, small blobs are merged into their nearest neighbour until at most that many are left."""
    ink = frame > INK
    n, labels = cv2.connectedComponents(cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)), connectivity=8)
    masks = [ink & (labels == i) for i in range(1, n)]
    masks = [m for m in masks if m.any()]
    masks.sort(key=lambda m: -m.sum())
    while len(masks) > 1 and (masks[-1].sum() < SMALL_BLOB or (count is not None and len(masks) > count)):
        small = masks.pop()
        centre = np.argwhere(small).mean(0)
        nearest = min(range(len(masks)), key=lambda i: np.abs(np.argwhere(masks[i]) - centre).sum(1).min())
        masks[nearest] = masks[nearest] | small
    return masks


def track(frames: np.ndarray, num_objects: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The digits of one sequence (T, H, W): [(patch (28, 28), corner per frame (T, 2) int)]."""
    T = len(frames)
    raw = [blobs(f, None) for f in frames]
    if num_objects is None:
        counts = sorted((len(b) for b in raw), reverse=True)
        num_objects = max(1, counts[1] if T > 1 else counts[0])
    apart = [t for t in range(T) if len(raw[t]) >= num_objects]
    if not apart:  # the digits touch in every frame: one object, the whole ink
        num_objects, apart = 1, [t for t in range(T) if raw[t]]
        if not apart:
            return []
    # The frame where the digits are furthest apart (ties: the latest) gives the templates.
    best = max(apart, key=lambda t: (_separation(blobs(frames[t], num_objects)), t))
    objects = []
    for mask in blobs(frames[best], num_objects)[:num_objects]:
        rows, cols = np.nonzero(mask)
        top, left = rows.min(), cols.min()
        template = np.where(mask, frames[best], 0)[top:rows.max() + 1, left:cols.max() + 1]
        where = _follow(frames, template, best, np.array([top, left]))  # (T, 2) template corner per frame
        weights = template.astype(np.float64)
        centre = np.array([(weights.sum(1) * np.arange(template.shape[0])).sum(),
                           (weights.sum(0) * np.arange(template.shape[1])).sum()]) / weights.sum()
        corners = where + np.round(centre - CENTRE).astype(int)  # the 28×28 field's corner per frame
        objects.append((_appearance(frames, corners), corners))
    return objects


def _separation(masks: list[np.ndarray]) -> float:
    if len(masks) < 2:
        return 0.0
    points = [np.argwhere(m) for m in masks]
    return min(float(np.abs(a[:, None] - b[None]).max(-1).min())
               for i, a in enumerate(points) for b in points[i + 1:])


def _follow(frames: np.ndarray, template: np.ndarray, start: int, corner: np.ndarray) -> np.ndarray:
    """Where the template's corner is in every frame, stepping out from frame ``start`` both ways."""
    T, H, W = frames.shape
    h, w = template.shape
    where = np.zeros((T, 2), int)
    where[start] = corner
    for direction in (1, -1):
        t, velocity = start + direction, np.zeros(2)
        while 0 <= t < T:
            previous = where[t - direction]
            guess = previous + np.round(velocity).astype(int)
            where[t] = _match(frames[t], template, previous, guess, H - h, W - w)
            velocity = where[t] - previous
            t += direction
    return where


def _match(frame: np.ndarray, template: np.ndarray, previous: np.ndarray, guess: np.ndarray,
           max_row: int, max_col: int) -> np.ndarray:
    """The corner within REACH of ``previous`` where the least of the template's ink is missing from
    the frame (ties: nearest the constant-velocity ``guess``)."""
    h, w = template.shape
    r0, r1 = max(previous[0] - REACH, 0), min(previous[0] + REACH, max_row)
    c0, c1 = max(previous[1] - REACH, 0), min(previous[1] + REACH, max_col)
    windows = np.lib.stride_tricks.sliding_window_view(frame[r0:r1 + h, c0:c1 + w], (h, w))  # (R, C, h, w)
    missing = (np.maximum(template - windows, 0) ** 2).sum((-2, -1))  # (R, C)
    rows, cols = np.mgrid[r0:r1 + 1, c0:c1 + 1]
    distance = np.abs(rows - guess[0]) + np.abs(cols - guess[1])
    best = np.lexsort((distance.ravel(), np.round(missing.ravel(), 4)))[0]
    return np.array([rows.ravel()[best], cols.ravel()[best]])


def _appearance(frames: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The digit's patch: the pixel-wise minimum of its 28×28 field over the frames (zero outside)."""
    T, H, W = frames.shape
    padded = np.pad(frames, ((0, 0), (PATCH, PATCH), (PATCH, PATCH)))
    patches = np.stack([padded[t, r + PATCH:r + 2 * PATCH, c + PATCH:c + 2 * PATCH] for t, (r, c) in enumerate(corners)])
    return patches.min(0)


def fold(x: torch.Tensor, span: float) -> torch.Tensor:
    """A free coordinate folded into [0, span] by reflection at both ends (the generator's rule)."""
    return span - (span - x.remainder(2 * span)).abs()


def extrapolate(corners: np.ndarray, context: int, horizon: int, span: int, max_speed: float = 5.5) -> np.ndarray:
    """Paths (M, context, 2) of integer corners → (M, horizon, 2) the fitted folded-line path's
    next corners. Per axis the path is x_t = round(fold(p + v (t − T + 1))): the search runs over
    the last free position p within half a pixel of the last corner, and the velocity v."""
    observed = torch.as_tensor(corners, dtype=torch.float32).permute(0, 2, 1).reshape(-1, context)  # (M·2, T)
    v = torch.arange(-max_speed, max_speed + 1e-6, VELOCITY_STEP)
    dp = torch.arange(-0.5, 0.5 + 1e-6, POSITION_STEP)
    t = torch.arange(context, dtype=torch.float32) - (context - 1)
    best_p, best_v = [], []
    for chunk in observed.split(64):
        p = chunk[:, -1, None, None] + dp[:, None]  # (m, P, 1)
        path = fold(p[..., None] + v[None, None, :, None] * t, span)  # (m, P, V, T)
        error = ((path - chunk[:, None, None]).abs() - 0.5).clamp(min=0).sum(-1)  # 0 when every rounding fits
        error = error + 1e-4 * (path - chunk[:, None, None]).abs().sum(-1)  # ties: the closest path
        flat = error.flatten(1).argmin(1)
        best_p.append(p[torch.arange(len(chunk)), flat // len(v), 0])
        best_v.append(v[flat % len(v)])
    p, v = torch.cat(best_p), torch.cat(best_v)
    ahead = torch.arange(1, horizon + 1, dtype=torch.float32)
    future = fold(p[:, None] + v[:, None] * ahead, span).round()  # (M·2, horizon)
    return future.reshape(-1, 2, horizon).permute(0, 2, 1).long().numpy()
