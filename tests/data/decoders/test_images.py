"""The picture decoders, through the reader: animations and stills round-trip, in natural order, colour as luminance,
sixteen bits kept."""

import cv2
import numpy as np
import pytest
from PIL import Image

from convlstm.data.uploads import read_sequence
from tests.helpers import H, W, _check, _gray, luminance_of, rgb_frames


@pytest.mark.parametrize("suffix, options", [
    (".gif", {}), (".png", {}), (".apng", {}), (".webp", {"lossless": True}), (".tif", {}),
])
def test_animations_round_trip_exactly(tmp_path, suffix, options):
    frames = _gray()
    images = [Image.fromarray(f) for f in frames]
    path = tmp_path / f"anim{suffix}"
    images[0].save(path, save_all=True, append_images=images[1:], format=None if suffix != ".apng" else "PNG",
                   **options)
    out = read_sequence(path)
    _check(out)
    np.testing.assert_allclose(out, frames / 255, atol=1e-6)


def test_gif_colour_frames_are_composited_to_luminance(tmp_path):
    frames = rgb_frames()
    # Few colours, so the GIF palette holds them exactly.
    frames = (frames // 64 * 64).astype(np.uint8)
    images = [Image.fromarray(f) for f in frames]
    images[0].save(tmp_path / "c.gif", save_all=True, append_images=images[1:])
    np.testing.assert_allclose(read_sequence(tmp_path / "c.gif"), luminance_of(frames), atol=1e-5)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".webp"])
@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_lossless_stills_in_natural_order(tmp_path, suffix, mode):
    if suffix == ".bmp" and mode == "RGBA":
        pytest.skip("Pillow writes BMP without alpha")
    gray, rgb = _gray(t=11), rgb_frames(t=11)
    alpha = np.linspace(0, 255, W).astype(np.uint8)[None, None, :].repeat(H, 1).repeat(11, 0)
    if mode == "L":
        pixels, expected = gray, gray / 255
    elif mode == "RGB":
        pixels, expected = rgb, luminance_of(rgb)
    else:
        pixels, expected = np.concatenate([rgb, alpha[..., None]], -1), luminance_of(rgb) * alpha / 255
    paths = []
    for i, frame in enumerate(pixels):
        path = tmp_path / f"frame{i}{suffix}"  # frame2 must come before frame10
        Image.fromarray(frame, mode).save(path, **({"lossless": True} if suffix == ".webp" else {}))
        paths.append(path)
    out = read_sequence(sorted(paths, reverse=True))  # the order given doesn't matter
    _check(out)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_jpeg_stills_within_tolerance(tmp_path):
    frames = rgb_frames()
    paths = []
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(tmp_path / f"f{i}.jpg", quality=95)
        paths.append(tmp_path / f"f{i}.jpg")
    out = read_sequence(paths)
    assert np.abs(out - luminance_of(frames)).mean() < 0.02


def test_sixteen_bit_pictures_keep_all_bits(tmp_path):
    gray16 = (_gray().astype(np.uint16) * 257 + 123)
    Image.fromarray(gray16[0]).save(tmp_path / "g.png")
    Image.fromarray(gray16[1]).save(tmp_path / "g.tif")
    np.testing.assert_allclose(read_sequence(tmp_path / "g.png")[0], gray16[0] / 65535, atol=1e-6)
    np.testing.assert_allclose(read_sequence(tmp_path / "g.tif")[0], gray16[1] / 65535, atol=1e-6)
    rgb16 = rgb_frames()[0].astype(np.uint16) * 257 + 77
    for suffix in (".png", ".tif"):
        cv2.imwrite(str(tmp_path / f"c{suffix}"), rgb16[..., ::-1])  # OpenCV writes BGR
        expected = (rgb16.astype(np.float64) / 65535) @ [0.299, 0.587, 0.114]
        np.testing.assert_allclose(read_sequence(tmp_path / f"c{suffix}")[0], expected, atol=1e-6)
