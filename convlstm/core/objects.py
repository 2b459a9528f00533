"""Per-object forecasts of Moving MNIST: find each digit, fit its bouncing path, redraw it.

Moving MNIST is drawn by a known rule (``convlstm.data.mnist.generate``): each digit's 28×28 patch
moves at a constant velocity, its top-left corner folded into [0, size − 28] (a bounce when the
patch, not the ink, meets a wall), rounded to whole pixels, and digits combine by pixel-wise max.
This forecast inverts that rule from the context frames alone:

1. segment: which ink belongs to which digit, in every context frame: given by ``owners`` (the
   objects head of ``convlstm.core.model`` learns them), or else, in a context frame where the
   digits' ink is apart, each connected blob is a digit (broken-off strokes merged into the
   nearest blob);
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

Without owners it is a classical reference of what per-object motion can reach: it knows the
rule the data was drawn by, and where no context frame shows the digits apart it moves the whole
ink along one fitted path. Everything here is numpy on the CPU and not differentiable.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

PATCH = 28  # MNIST's digit field
CENTRE = 14.0  # where MNIST puts a digit's centre of mass in its field
MAX_RECENTRE = 6  # px: the margin searched around a field placed from a cut template
REACH = 6  # px a digit can move in one frame along an axis: the top speed 5, plus rounding
INK = 0.02  # gray level above which a pixel counts as ink
DIGIT_BLOB = 40  # px: a blob this large counts as a digit when counting them
SMALL_BLOB = 12  # px: blobs smaller than this are broken-off strokes, merged into the nearest digit
# The path fit's search: (reach, step) of the last position (px), then of the velocity (px/frame; a
# reach of 0 means up to max_speed), first on a coarse grid, then around the best coarse fit.
COARSE_TO_FINE = (((0.5, 0.1), (0.0, 0.05)), ((0.1, 0.02), (0.05, 0.005)))
CENTRE_SEARCH = ((0.5, 0.02), (0.12, 0.004))  # then every fitting path near the best: their mean
MAX_SPEED = 5.5  # px/frame along an axis that a fitted path may take: the top speed, and some
PATH_VELOCITY_STEP = 0.1  # px/frame: the velocity grid of whole-path template matching


def forecast_objects(frames: np.ndarray, horizon: int, num_objects: int | None = 2,
                     owners: np.ndarray | None = None, blobs_first: bool = False,
                     count_more: bool = False) -> np.ndarray:
    """Forecasts (N, horizon, H, W) of context frames (N, T, H, W) in [0, 1]; ``num_objects``:
    digits per sequence, or None to take the largest number of blobs seen in two context frames.
    ``owners`` (N, T, H, W) ints: which object (1..K, 0 none) each pixel belongs to; with
    ``blobs_first`` they are used only where no context frame shows the digits' blobs apart.
    ``count_more``: follow more than ``num_objects`` where more digit-sized blobs are seen apart."""
    frames = np.asarray(frames, np.float32)
    tracks = [track(seq, num_objects, None if owners is None else owners[n], blobs_first, count_more)
              for n, seq in enumerate(frames)]  # per sequence: [(patch, corners (T, 2))]
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


def components(masks: np.ndarray) -> np.ndarray:
    """Labels (..., H, W) int of the 8-connected components of each boolean mask (0 outside it):
    every pixel takes the largest index among its neighbours until nothing changes."""
    *lead, H, W = masks.shape
    inside = torch.from_numpy(np.ascontiguousarray(masks)).reshape(-1, 1, H, W).float()
    labels = torch.arange(1, H * W + 1, dtype=torch.float32).view(1, 1, H, W) * inside
    while True:
        spread = F.max_pool2d(labels, 3, stride=1, padding=1) * inside
        if torch.equal(spread, labels):
            return labels.reshape(*lead, H, W).long().numpy()
        labels = spread


def grown_components(ink: np.ndarray) -> np.ndarray:
    """Component labels of ink (..., H, W) grown by one pixel: strokes a pixel apart are one blob."""
    *lead, H, W = ink.shape
    grown = F.max_pool2d(torch.from_numpy(np.ascontiguousarray(ink)).reshape(-1, 1, H, W).float(), 3, stride=1,
                         padding=1)
    return components(grown.reshape(*lead, H, W).numpy() > 0)


def blobs(frame: np.ndarray, count: int | None, ink: np.ndarray | None = None,
          labels: np.ndarray | None = None) -> list[np.ndarray]:
    """Boolean masks of the ink blobs of one frame (of ``ink``, if given: a subset of it), broken
    strokes merged, largest first; with ``count``, small blobs are merged into their nearest
    neighbour until at most that many are left. ``labels``: ``grown_components(ink)``, if known."""
    ink = frame > INK if ink is None else ink
    labels = grown_components(ink) if labels is None else labels
    masks = [ink & (labels == i) for i in np.unique(labels[ink])]
    masks.sort(key=lambda m: -m.sum())
    while len(masks) > 1 and (masks[-1].sum() < SMALL_BLOB or (count is not None and len(masks) > count)):
        small = masks.pop()
        centre = np.argwhere(small).mean(0)
        nearest = min(range(len(masks)), key=lambda i: np.abs(np.argwhere(masks[i]) - centre).sum(1).min())
        masks[nearest] = masks[nearest] | small
    return masks


def track(frames: np.ndarray, num_objects: int | None, owners: np.ndarray | None = None,
          blobs_first: bool = False, count_more: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
    """The digits of one sequence (T, H, W): [(patch (28, 28), corner per frame (T, 2) int)].
    ``owners`` (T, H, W) ints, 1..K per object and 0 elsewhere, segment the frames instead of blobs
    (with ``blobs_first``: only where no frame shows the blobs apart). ``num_objects`` None: as many as
    digit-sized blobs are seen apart; with ``count_more``, at least ``num_objects``, more if seen."""
    T = len(frames)
    if owners is not None and not blobs_first:
        return _track_owned(frames, owners)
    labels = grown_components(frames > INK)  # (T, H, W), all frames at once
    raw = [blobs(f, None, labels=lab) for f, lab in zip(frames, labels, strict=True)]
    if num_objects is None or count_more:
        # Blobs the size of a digit, seen in two frames at least (one could be a stroke broken off).
        counts = sorted((sum(m.sum() >= DIGIT_BLOB for m in b) for b in raw), reverse=True)
        num_objects = max(num_objects or 1, counts[1] if T > 1 else counts[0])
    apart = [t for t in range(T) if len(raw[t]) >= num_objects]
    # All the ink moving as one piece is one object (a lone digit, which labels trained on two would split).
    rigid = not apart and _moves_rigidly(frames)
    if not apart and owners is not None and not rigid:
        return _track_owned(frames, owners)
    merged_digits = not apart and not rigid
    if not apart:  # one object, the whole ink: one rigid piece, or digits that touch in every frame
        num_objects, apart = 1, [t for t in range(T) if raw[t]]
        if not apart:
            return []
    # The frame where the digits are furthest apart (ties: the latest) gives the templates.
    merged = {t: blobs(frames[t], num_objects, labels=labels[t]) for t in apart}
    best = max(apart, key=lambda t: (_separation(merged[t]), t))
    return [_follow_template(frames, best, mask, cut=merged_digits) for mask in merged[best][:num_objects]]


def _moves_rigidly(frames: np.ndarray, tolerance: float = 0.02) -> bool:
    """Whether each frame is the one before moved by whole pixels, within ``tolerance`` of gray level per ink
    pixel: all the ink is one piece, as a lone Moving MNIST digit is (digits are pasted at whole pixels). A rigid
    piece's move is its centre of mass's, so that is the only shift tried."""
    for before, after in zip(frames[:-1], frames[1:], strict=True):
        if not before.any() or not after.any():  # nothing to move, or ink that came or went
            if before.any() or after.any():
                return False
            continue
        shift = tuple(np.round(_centre_of_mass(after) - _centre_of_mass(before)).astype(int))
        if np.abs(np.roll(before, shift, (0, 1)) - after).sum() > tolerance * max(int((after > INK).sum()), 1):
            return False
    return True


def _track_owned(frames: np.ndarray, owners: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Like ``track``, the objects' ink told apart by ``owners``: each object's template is its
    largest blob in the frame where the objects are furthest apart."""
    ink = frames > INK
    K = int(owners.max()) if owners.size else 0
    owned = np.stack([ink & (owners == k) for k in range(1, K + 1)], axis=1)  # (T, K, H, W)
    labels = grown_components(owned)
    masks = [[_largest(blobs(f, None, owned[t, k], labels[t, k])) for k in range(K)]
             for t, f in enumerate(frames)]  # (T, K) masks, None where absent
    present = [[m for m in ms if m is not None] for ms in masks]
    count = max((len(p) for p in present), default=0)
    if count == 0:
        return []
    candidates = [t for t in range(len(frames)) if len(present[t]) == count]
    best = max(candidates, key=lambda t: (_separation(present[t]), t))
    return [_follow_template(frames, best, mask, cut=True) for mask in present[best]]


def _largest(masks: list[np.ndarray]) -> np.ndarray | None:
    return masks[0] if masks and masks[0].sum() >= SMALL_BLOB else None


def _follow_template(frames: np.ndarray, best: int, mask: np.ndarray,
                     cut: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The object whose ink in frame ``best`` is ``mask``: (patch (28, 28), field corner per frame (T, 2)).
    ``cut``: the mask may be part of the digit only (learned labels of touching digits), so the path and
    the field are checked and placed again; a blob apart from the others is the whole digit."""
    rows, cols = np.nonzero(mask)
    top, left = rows.min(), cols.min()
    template = np.where(mask, frames[best], 0)[top:rows.max() + 1, left:cols.max() + 1]
    offset = np.round(_centre_of_mass(template) - CENTRE).astype(int)  # template corner → field corner
    where = _follow(frames, template, best, np.array([top, left]))  # (T, 2) template corner per frame
    astray = cut and not _is_folded_line(where + offset, frames.shape[-1] - PATCH, MAX_RECENTRE)
    if astray:
        # Stepping frame to frame went astray (a cut template matched the other digit's ink): match the
        # template along whole folded-line paths instead, all frames at once.
        where = _follow_path(frames, template, best, np.array([top, left]), offset)
    corners = where + offset  # the 28×28 field's corner per frame
    # A template cut from a digit partly hidden has its centre of mass off, and the field with it; gathered
    # over all frames, in a window with a margin around the field, the digit comes out whole, and its
    # centre of mass places the field once more.
    m = MAX_RECENTRE
    wide = _appearance(frames, corners - m, PATCH + 2 * m) if cut else np.zeros(1)
    if wide.sum() > 0:
        shift = np.round(_centre_of_mass(wide) - CENTRE - m).astype(int)
        if np.abs(shift).max() <= m:
            corners = corners + shift
    patch = _appearance(frames, corners)
    if astray and patch.sum() > 0:
        # The path search's velocity grid rounds a pixel off here and there: match the whole digit
        # gathered along it once more, frame by frame, within a pixel of the path.
        H, W = frames.shape[-2:]
        corners = np.clip(corners, 0, [H - PATCH, W - PATCH])
        corners = np.stack([_match(f, patch, c, c, H - PATCH, W - PATCH, reach=1)
                            for f, c in zip(frames, corners, strict=True)])
        patch = _appearance(frames, corners)
    return patch, corners


def _is_folded_line(corners: np.ndarray, span: int, slack: int = 0) -> bool:
    """Whether a path of whole-pixel corners (T, 2) is, along each axis, a straight line folded at the
    walls and rounded, with the walls where they are or, given ``slack``, up to that many pixels off
    (the corners may be those of a field placed from a cut template)."""
    shifts = torch.arange(-slack, slack + 1, dtype=torch.float32)
    axes = torch.as_tensor(corners, dtype=torch.float32).T  # (2, T)
    observed = (axes[:, None] + shifts[:, None]).reshape(-1, len(corners))  # (2·S, T): each axis, each shift
    p, v = observed[:, -1], torch.zeros(len(observed))
    for (p_reach, p_step), (v_reach, v_step) in COARSE_TO_FINE:
        p, v = _fit(observed, span, p, _grid(p_reach, p_step), v, _grid(v_reach or MAX_SPEED, v_step))
    t = torch.arange(len(corners), dtype=torch.float32) - (len(corners) - 1)
    fits = ((fold(p[:, None] + v[:, None] * t, span) - observed).abs() <= 0.5 + 1e-4).all(1)  # as _fit judges
    return bool(fits.view(2, -1).any(1).all())


def _follow_path(frames: np.ndarray, template: np.ndarray, best: int, corner: np.ndarray,
                 offset: np.ndarray) -> np.ndarray:
    """Template corners (T, 2) along the folded-line path through ``corner`` at frame ``best`` whose
    frames miss the least of the template's ink, over a grid of velocities."""
    T, H, W = frames.shape
    h, w = template.shape
    windows = np.lib.stride_tricks.sliding_window_view(frames, (h, w), axis=(1, 2))  # (T, R, C, h, w)
    missing = (np.maximum(template - windows, 0) ** 2).sum((-2, -1))  # (T, R, C): ink missing at each corner
    R, C = missing.shape[1:]
    span = H - PATCH
    speeds = torch.arange(-MAX_SPEED, MAX_SPEED + 1e-6, PATH_VELOCITY_STEP)
    velocity = torch.stack(torch.meshgrid(speeds, speeds, indexing="ij"), -1).reshape(-1, 2)  # (V, 2)
    t = torch.arange(T, dtype=torch.float32)[:, None, None] - best  # (T, 1, 1)
    start = torch.as_tensor(corner + offset, dtype=torch.float32)
    fields = fold(start + velocity * t, span).round().long()  # (T, V, 2)
    rows = (fields[..., 0] - int(offset[0])).clamp(0, R - 1).numpy()
    cols = (fields[..., 1] - int(offset[1])).clamp(0, C - 1).numpy()
    total = missing[np.arange(T)[:, None], rows, cols].sum(0)  # (V,)
    best_velocity = int(np.argmin(total))
    return np.stack([rows[:, best_velocity], cols[:, best_velocity]], axis=-1)


def _centre_of_mass(image: np.ndarray) -> np.ndarray:
    weights = image.astype(np.float64)
    rows, cols = np.arange(image.shape[0]), np.arange(image.shape[1])
    return np.array([(weights.sum(1) * rows).sum(), (weights.sum(0) * cols).sum()]) / weights.sum()


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
           max_row: int, max_col: int, reach: int = REACH) -> np.ndarray:
    """The corner within ``reach`` of ``previous`` where the least of the template's ink is missing from
    the frame (ties: nearest the constant-velocity ``guess``)."""
    h, w = template.shape
    r0, r1 = max(previous[0] - reach, 0), min(previous[0] + reach, max_row)
    c0, c1 = max(previous[1] - reach, 0), min(previous[1] + reach, max_col)
    windows = np.lib.stride_tricks.sliding_window_view(frame[r0:r1 + h, c0:c1 + w], (h, w))  # (R, C, h, w)
    missing = (np.maximum(template - windows, 0) ** 2).sum((-2, -1))  # (R, C)
    rows, cols = np.mgrid[r0:r1 + 1, c0:c1 + 1]
    distance = np.abs(rows - guess[0]) + np.abs(cols - guess[1])
    best = np.lexsort((distance.ravel(), np.round(missing.ravel(), 4)))[0]
    return np.array([rows.ravel()[best], cols.ravel()[best]])


def _appearance(frames: np.ndarray, corners: np.ndarray, size: int = PATCH) -> np.ndarray:
    """The digit's patch: the pixel-wise minimum over the frames of the size × size window at each
    frame's corner (zero outside the frame)."""
    padded = np.pad(frames, ((0, 0), (size, size), (size, size)))
    patches = np.stack([padded[t, r + size:r + 2 * size, c + size:c + 2 * size] for t, (r, c) in enumerate(corners)])
    return patches.min(0)


def fold(x: torch.Tensor, span: float) -> torch.Tensor:
    """A free coordinate folded into [0, span] by reflection at both ends (the generator's rule)."""
    return span - (span - x.remainder(2 * span)).abs()


def extrapolate(corners: np.ndarray, context: int, horizon: int, span: int, max_speed: float = MAX_SPEED) -> np.ndarray:
    """Paths (M, context, 2) of integer corners → (M, horizon, 2) the fitted folded-line path's
    next corners. Per axis the path is x_t = round(fold(p + v (t − T + 1))): the search runs over
    the last free position p within half a pixel of the last corner and the velocity v, coarse
    first, then finely around the best coarse fit."""
    observed = torch.as_tensor(corners, dtype=torch.float32).permute(0, 2, 1).reshape(-1, context)  # (M·2, T)
    p, v = observed[:, -1], torch.zeros(len(observed))
    for (p_reach, p_step), (v_reach, v_step) in COARSE_TO_FINE:
        p, v = _fit(observed, span, p, _grid(p_reach, p_step), v, _grid(v_reach if v_reach else max_speed, v_step))
    p, v = _fit(observed, span, p, _grid(*CENTRE_SEARCH[0]), v, _grid(*CENTRE_SEARCH[1]), centre=True)
    ahead = torch.arange(1, horizon + 1, dtype=torch.float32)
    future = fold(p[:, None] + v[:, None] * ahead, span).round()  # (M·2, horizon)
    return future.reshape(-1, 2, horizon).permute(0, 2, 1).long().numpy()


def _grid(reach: float, step: float) -> torch.Tensor:
    return torch.arange(-reach, reach + step / 2, step)


def _fit(observed: torch.Tensor, span: int, p0: torch.Tensor, dp: torch.Tensor, v0: torch.Tensor,
         dv: torch.Tensor, centre: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The (p, v) among p0 + dp × v0 + dv whose folded path best rounds to the observed one (M, T);
    with ``centre``, the mean of all that round to it as well as the best: many paths round to
    the same whole pixels, and the middle one errs least when extended."""
    T = observed.shape[1]
    t = torch.arange(T, dtype=torch.float32) - (T - 1)
    p = p0[:, None, None] + dp[None, :, None]  # (M, P, 1)
    v = v0[:, None] + dv  # (M, V)
    path = fold(p[..., None] + v[:, None, :, None] * t, span)  # (M, P, V, T)
    miss = (path - observed[:, None, None]).abs()
    if centre:
        violation = (miss - 0.5).clamp(min=0).sum(-1)  # (M, P, V): 0 when every rounding fits
        fits = (violation <= violation.flatten(1).min(1).values[:, None, None] + 1e-6).float()
        count = fits.flatten(1).sum(1)
        return (fits * p).flatten(1).sum(1) / count, (fits * v[:, None, :]).flatten(1).sum(1) / count
    error = (miss - 0.5).clamp(min=0).sum(-1) + 1e-4 * miss.sum(-1)  # 0 when every rounding fits; ties: the closest
    flat = error.flatten(1).argmin(1)
    rows = torch.arange(len(observed))
    return p[rows, flat // len(dv), 0], v[rows, flat % len(dv)]
