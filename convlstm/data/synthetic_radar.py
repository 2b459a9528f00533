"""Synthetic weather-radar sequences in the paper's HKO setting, in mm/h.

Frames are 100×100, one every 6 minutes, 5 in → 15 out. A sequence is built in five steps:

1. Log-rain field: Gaussian noise filtered to a power spectrum ∝ k^-3 (pysteps' FFT noise
   generator), made on a canvas padded by the farthest the wind can carry rain in the sequence,
   so rain enters from outside the view instead of wrapping around.
2. Convective cells: a few Gaussian bumps added to that field, moving with the wind plus a small
   propagation of their own (storms drift across the steering flow).
3. Motion: a steady, smooth wind (translation, rotation, deformation or a mix). Each pixel's
   backward trajectory is integrated one Euler step per frame and the frame samples the *initial* field
   at the departure point (bilinear ``grid_sample``). Sampling the initial field rather than the
   previous frame keeps edges sharp: no numerical diffusion builds up.
4. Growth and decay: a smooth random field that slowly turns into another one, carried with the
   rain (storms grow as they move) and added to the log-rain field.
5. Rain where the field exceeds a threshold set for a random rainy fraction; above it the rate is
   log-normal, so most wet pixels are light and a few cores exceed 10–50 mm/h.

Speeds are in pixels per step. In the paper's HKO frames a pixel is about 3.5 km (330 km of radar
resized to 100 pixels), so 1 px/step ≈ 35 km/h; the cap of 3 px/step covers fast squall lines.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..core.values import to_unit

# The paper's HKO setting, the default of every generator here: 5 frames in, 15 out, 6 minutes apart, 100×100.
CONTEXT, HORIZON, STEP_MINUTES, SIZE = 5, 15, 6, 100
FRAMES = CONTEXT + HORIZON
TRAIN_SEED, VAL_SEED, TEST_SEED = 0, 1, 2
EVALUATION_SIZES = {"val": 500, "test": 1000}
CHUNK = 8  # radar() generates in chunks of this many with derived seeds: prefix-stable sets

MOTIONS = ("translation", "rotation", "deformation", "mixed")
MAX_SPEED = 3.0  # px/step, the cap on every generated wind
SPECTRAL_SLOPE = 3.0  # power ∝ k^-3, the mesoscale slope of radar rain fields
SMOOTH_SLOPE, SMOOTH_BELOW = 5.0, 8.0  # steeper below 8 px: radar beams (and the paper's disk filter) blur
RAIN_EDGE = 0.2  # mm/h at the edge of a rain area (≈ 12 dBZ)
RAIN_CAP = 150.0  # mm/h before `intensity`; heavier rain is rarely measured
GROWTH_STD = 0.5  # growth/decay field's std, in units of the log-rain field's std
GROWTH_TURN = (0.03, 0.08)  # radians per step between its two fields: ~1 rad (corr 0.5) in 2 hours


def radar(n: int, *, seed: int, first: int = 0, frames: int = FRAMES, size: int = SIZE, intensity: float = 1.0,
          motion: str = "mixed", growth_decay: bool = True, device: str = "cpu") -> np.ndarray:
    """Sequences ``first`` … ``first + n - 1`` of a seed's rain, in mm/h, float32 (n, frames, size, size).

    Generated in chunks of ``CHUNK`` with seeds derived from (seed, chunk index) and drawn on the
    CPU, so sequence k is the same whatever n and ``first`` are, and on every ``device``; a slice
    of a long set costs only its own chunks.
    """
    _check(n, frames, size, intensity, motion)
    if first < 0:
        raise ValueError(f"first must be >= 0, got {first}")
    out = np.empty((n, frames, size, size), np.float32)
    for start in range(first - first % CHUNK, first + n, CHUNK):
        chunk_seed = int(np.random.SeedSequence((seed, start // CHUNK)).generate_state(1)[0])
        generator = torch.Generator().manual_seed(chunk_seed)
        batch = generate_radar(CHUNK, generator=generator, frames=frames, size=size, intensity=intensity,
                               motion=motion, growth_decay=growth_decay, device=device).cpu().numpy()
        lo, hi = max(start, first), min(start + CHUNK, first + n)  # the part of this chunk asked for
        out[lo - first:hi - first] = batch[lo - start:hi - start]
    return out


def radar_evaluation_set(split: str = "test", n: int | None = None, first: int = 0) -> np.ndarray:
    """The fixed validation (500) or test (1,000) sequences, or ``n`` of them from ``first``; mm/h.

    The full test set is 800 MB of float32: take it in slices.
    """
    if split not in EVALUATION_SIZES:
        raise ValueError(f"split must be one of {tuple(EVALUATION_SIZES)}, got {split!r}")
    size = EVALUATION_SIZES[split]
    n = size - first if n is None else n
    if not (1 <= n and 0 <= first and first + n <= size):
        raise ValueError(f"the {split} set has {size} sequences; asked for {n} from {first}")
    return radar(n, seed=VAL_SEED if split == "val" else TEST_SEED, first=first)


class RadarStream:
    """Endless fresh batches (B, frames, size, size) in the model's [0, 1] scale (``to_unit``).

    Random numbers are drawn on ``device``, so a GPU stream never waits on the CPU; the same
    seed gives the same batches on the same kind of device.
    """

    def __init__(self, batch_size: int, *, seed: int = TRAIN_SEED, device: str | torch.device = "cpu",
                 frames: int = FRAMES, size: int = SIZE, intensity: float = 1.0, motion: str = "mixed",
                 growth_decay: bool = True):
        _check(batch_size, frames, size, intensity, motion)
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.options = dict(frames=frames, size=size, intensity=intensity, motion=motion,
                            growth_decay=growth_decay)

    def __iter__(self):
        return self

    def __next__(self) -> torch.Tensor:
        rain = generate_radar(self.batch_size, generator=self.generator, device=self.device, **self.options)
        return to_unit(rain)


@torch.no_grad()
def generate_radar(n: int, *, generator: torch.Generator, frames: int = FRAMES, size: int = SIZE,
                   intensity: float = 1.0, motion: str = "mixed", growth_decay: bool = True,
                   velocity: tuple[float, float] | None = None,
                   device: str | torch.device = "cpu") -> torch.Tensor:
    """Rain rate in mm/h, float32 (n, frames, size, size) on ``device``.

    Random numbers come from ``generator`` on its own device. ``velocity=(vy, vx)`` in px/step
    replaces the random wind by that uniform translation (for tests and demos).
    """
    _check(n, frames, size, intensity, motion)
    device = torch.device(device)

    def rand(*shape):
        return torch.rand(shape, generator=generator, device=generator.device).to(device)

    def randn(*shape):
        return torch.randn(shape, generator=generator, device=generator.device).to(device)

    speed = MAX_SPEED if velocity is None else max(MAX_SPEED, math.hypot(*velocity))
    margin = math.ceil(speed * (frames - 1)) + 2  # trajectories of view pixels stay on the canvas
    canvas = size + 2 * margin

    field = _power_law_noise(randn(n, canvas, canvas), SPECTRAL_SLOPE, SMOOTH_BELOW)[:, None]  # (B, 1, P, P)
    coarse = math.ceil(canvas / 4)  # the growth field is smooth: a quarter resolution will do
    growth = _power_law_noise(randn(n * 2, coarse, coarse), SPECTRAL_SLOPE).reshape(n, 2, coarse, coarse)
    turn = GROWTH_TURN[0] + (GROWTH_TURN[1] - GROWTH_TURN[0]) * rand(n)
    phase = 2 * math.pi * rand(n)
    wind = _Wind(n, motion, velocity, size, canvas, rand, randn, device)

    # Convective cells: up to 4, each present with probability 1/2.
    K = 4
    cell_start = rand(n, K, 2) * (size + 20) - 10  # (B, K, 2) px, (x, y) as grid_sample wants
    cell_velocity = wind(cell_start) + (rand(n, K, 2) - 0.5)  # own propagation up to ±0.5 px/step
    cell_width = 2 + 3 * rand(n, K)  # px
    cell_height = (rand(n, K) < 0.5) * (1.5 + 1.5 * rand(n, K))  # in field std units
    cell_life = 8 + 12 * rand(n, K)  # steps (50 min – 2 h)
    cell_birth = rand(n, K) * (frames + cell_life) - cell_life

    rainy_fraction = 0.1 + 0.35 * rand(n)
    threshold = torch.special.ndtri(1 - rainy_fraction)[:, None, None]  # (B, 1, 1)
    log_spread = (1.5 + 0.7 * rand(n))[:, None, None]  # log-rain per field std

    pixels = torch.arange(size, device=device, dtype=torch.float32)
    points = torch.stack(torch.meshgrid(pixels, pixels, indexing="xy"), -1).expand(n, size, size, 2)  # (x, y)
    out = torch.empty(n, frames, size, size, device=device)
    for t in range(frames):
        if t > 0:
            points = points - wind(points)  # departure points of frame t's pixels at time 0
        grid = _to_grid(points, margin, canvas)
        z = F.grid_sample(field, grid, align_corners=False)[:, 0]  # (B, S, S)
        if growth_decay:
            # cos·G1 + sin·G2 keeps unit variance and changes smoothly: no flicker at the edges.
            angle = phase + turn * t
            weights = torch.stack([torch.cos(angle), torch.sin(angle)], -1)[:, :, None, None]  # (B, 2, 1, 1)
            z = z + GROWTH_STD * (weights * F.grid_sample(growth, grid, align_corners=False)).sum(1)
            age = ((t - cell_birth) / cell_life).clamp(0, 1)
            height = cell_height * torch.sin(math.pi * age)  # born, matures, dies
        else:
            height = cell_height
        centre = cell_start + t * cell_velocity  # (B, K, 2)
        gx = torch.exp(-((pixels - centre[..., :1]) / cell_width[..., None]) ** 2 / 2)  # (B, K, S)
        gy = torch.exp(-((pixels - centre[..., 1:]) / cell_width[..., None]) ** 2 / 2)
        z = z + torch.einsum("bky,bkx->byx", height[..., None] * gy, gx)
        rain = RAIN_EDGE * torch.exp(log_spread * (z - threshold)).clamp(max=RAIN_CAP / RAIN_EDGE)
        out[:, t] = torch.where(z > threshold, rain, 0.0) * intensity
    return out


class _Wind:
    """A steady wind v(p) in px/step at view pixel coordinates p = (x, y), shape (B, ..., 2).

    Affine part u + A (p - c): A holds rotation (antisymmetric) and deformation (symmetric,
    traceless, so area-preserving). "mixed" adds a small smooth random component. Speeds are
    capped at MAX_SPEED, except for an explicit ``velocity``.
    """

    def __init__(self, n, motion, velocity, size, canvas, rand, randn, device):
        self.size, self.canvas, self.bumps = size, canvas, None
        self.cap = None if velocity is not None else MAX_SPEED
        if velocity is not None:
            self.u = torch.tensor(velocity[::-1], dtype=torch.float32, device=device).expand(n, 2)  # (x, y)
            self.a = torch.zeros(n, 2, 2, device=device)
            self.c = torch.zeros(n, 2, device=device)
            return
        angle = 2 * math.pi * rand(n)
        direction = torch.stack([torch.sin(angle), torch.cos(angle)], -1)  # (B, 2)
        sign = torch.where(rand(n) < 0.5, -1.0, 1.0)
        # (translation speed, rotation rate, strain rate), rates per step: 50 px from the centre
        # rotation alone moves up to 2.5 px/step and deformation up to ~2; about 1 inside "mixed".
        scale = {"translation": (2.5, 0, 0), "rotation": (0.5, 0.05, 0), "deformation": (0.5, 0, 0.03),
                 "mixed": (2.5, 0.02, 0.015)}[motion]
        self.u = direction * (scale[0] * rand(n))[:, None]
        omega = sign * scale[1] * (0.3 + 0.7 * rand(n))
        stretch, shear = (scale[2] * (2 * rand(n, 2) - 1)).unbind(-1)
        self.a = torch.stack([torch.stack([stretch, omega + shear], -1),
                              torch.stack([shear - omega, -stretch], -1)], -2)  # (B, 2, 2)
        self.c = size * (0.2 + 0.6 * rand(n, 2))
        if motion == "mixed":
            # Smooth random wind, std ≈ 0.3 px/step, varying over tens of pixels.
            noise = 0.3 * _power_law_noise(randn(2 * n, 16, 16), 5.0)
            self.bumps = noise.reshape(n, 2, 16, 16)

    def __call__(self, p: torch.Tensor) -> torch.Tensor:
        B, shape = p.shape[0], p.shape
        flat = p.reshape(B, -1, 2)  # (B, N, 2)
        v = self.u[:, None] + torch.einsum("bij,bnj->bni", self.a, flat - self.c[:, None])
        if self.bumps is not None:
            grid = _to_grid(flat[:, :, None], (self.canvas - self.size) // 2, self.canvas)  # (B, N, 1, 2)
            v = v + F.grid_sample(self.bumps, grid, align_corners=False)[..., 0].transpose(1, 2)
        if self.cap is not None:
            v = v * (self.cap / v.norm(dim=-1, keepdim=True).clamp(min=self.cap))
        return v.reshape(shape)


def _to_grid(points: torch.Tensor, margin: int, canvas: int) -> torch.Tensor:
    """View pixel coordinates (x, y) → grid_sample's normalized coordinates on the canvas."""
    return points * (2 / canvas) + ((2 * margin + 1) / canvas - 1)


def _power_law_noise(white: torch.Tensor, slope: float, smooth_below: float | None = None) -> torch.Tensor:
    """(B, H, W) white noise → Gaussian field with power ∝ k^-slope, zero mean and unit std.

    With ``smooth_below``, wavelengths shorter than that many pixels fall off as k^-SMOOTH_SLOPE.
    """
    H, W = white.shape[-2:]
    ky = torch.fft.fftfreq(H, device=white.device)[:, None]
    kx = torch.fft.rfftfreq(W, device=white.device)[None, :]
    k = torch.sqrt(ky**2 + kx**2)
    k[0, 0] = 1.0
    amplitude = k ** (-slope / 2)
    if smooth_below is not None:
        amplitude = amplitude * (k * smooth_below).clamp(min=1) ** (-(SMOOTH_SLOPE - slope) / 2)
    amplitude[0, 0] = 0.0  # no mean: the threshold sets how much rains
    field = torch.fft.irfft2(torch.fft.rfft2(white) * amplitude, s=(H, W))
    field = field - field.mean((-2, -1), keepdim=True)
    return field / field.std(dim=(-2, -1), keepdim=True)


def _check(n, frames, size, intensity, motion):
    if n < 1:
        raise ValueError(f"need at least one sequence, got n={n}")
    if frames < 2:
        raise ValueError(f"a sequence needs at least 2 frames, got frames={frames}")
    if size < 16:
        raise ValueError(f"frames must be at least 16 pixels wide, got size={size}")
    if not intensity >= 0:
        raise ValueError(f"intensity scales rain rates and must be >= 0, got {intensity}")
    if motion not in MOTIONS:
        raise ValueError(f"motion must be one of {MOTIONS}, got {motion!r}")
