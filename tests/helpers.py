"""Helpers that several test files share (fixtures are in conftest.py): small models, a training config,
frames and files to upload, GIF pages, a synthetic radar composite."""

import io
import zipfile

import numpy as np
from PIL import Image

from convlstm import EncoderForecaster

# --- models and a training run ---------------------------------------------------------------------


def small_model(**kwargs):
    config = dict(frame_size=16, patch_size=4, hidden_channels=[6, 5], kernel_size=3)
    return EncoderForecaster(**(config | kwargs))


def tiny_model(autoregressive=True):
    return EncoderForecaster(hidden_channels=[8, 8], kernel_size=3, peephole="channel", autoregressive=autoregressive)


TINY_CONFIG = dict(hidden_channels=[8, 8], kernel_size=3, batch_size=3, eval_sequences=4, progress_bar=False,
                   log_every=100, eval_every=100, warmup_steps=2, lr=3e-3, max_steps=6, device="auto",
                   autoregressive=True, peephole="channel", teacher_forcing_start=0.8, teacher_forcing_until=0.5,
                   data_chunk=2)


# --- uploads ----------------------------------------------------------------------------------------


T, H, W = 5, 12, 16


def _gray(t=T, h=H, w=W) -> np.ndarray:
    """Distinct uint8 frames: a ramp across, shifted by 40 levels per frame."""
    ramp = np.linspace(0, 150, w)[None, None, :] + np.linspace(0, 30, h)[None, :, None]
    return (ramp + 20 * np.arange(t)[:, None, None]).astype(np.uint8)


def _check(frames: np.ndarray) -> None:
    assert frames.dtype == np.float32 and frames.ndim == 3 and min(frames.shape) >= 1
    assert np.isfinite(frames).all() and frames.min() >= 0 and frames.max() <= 1


def _png_bytes(frame: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _animated_gif_bytes() -> bytes:
    buffer = io.BytesIO()
    images = [Image.fromarray(f) for f in np.random.default_rng(1).integers(0, 255, (8, 32, 32), np.uint8)]
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def _rain(t=4, h=12, w=16) -> np.ndarray:
    """mm/h, mostly dry, up to ~60."""
    rng = np.random.default_rng(0)
    return np.where(rng.random((t, h, w)) < 0.6, 0, rng.gamma(2, 8, (t, h, w))).astype(np.float32)


# --- pictures and radar -----------------------------------------------------------------------------


def frames_of(path) -> list[np.ndarray]:
    gif = Image.open(path)
    out = []
    for t in range(gif.n_frames):
        gif.seek(t)
        out.append(np.asarray(gif.convert("RGB")))
    return out


def synthetic_composite():
    """24 frames of 260×300 rain: a disk of radar coverage, a rain band drifting east inside it."""
    y, x = np.mgrid[:260, :300]
    covered = (y - 130) ** 2 + (x - 150) ** 2 < 120**2
    rain = np.zeros((24, 260, 300), np.float32)
    for t in range(24):
        rain[t] = np.where(np.abs(x - 60 - 3 * t) < 40, 2.0, 0.0) + 0.01 * ((x + y) % 7)
    return np.where(covered, rain, np.nan), covered
