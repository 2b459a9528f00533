"""Writers and pictures: what they write can be read back, labels and panels land where they should."""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageSequence

from convlstm.data.uploads import read_sequence
from convlstm.viz import render
from convlstm.viz.render import Row, frame_grid, save_png, side_by_side, write_gif, write_mp4, write_video
from tests.helpers import frames_of

T, H, W = 6, 10, 14


def _frames(t=T, h=H, w=W) -> np.ndarray:
    """Distinct float frames in [0, 1]: a ramp that brightens each step."""
    ramp = np.linspace(0, 0.5, w)[None, None, :] * np.ones((1, h, 1))
    return (ramp + 0.08 * np.arange(t)[:, None, None]).astype(np.float32)


def test_to_uint8_rounds_and_passes_uint8_through():
    np.testing.assert_array_equal(render.to_uint8(np.array([0, 0.5, 1, 1.2, -1])), [0, 128, 255, 255, 0])
    raw = np.arange(5, dtype=np.uint8)
    assert render.to_uint8(raw) is raw


@pytest.mark.parametrize("scale", [1, 3])
def test_gif_round_trip(tmp_path, scale):
    frames = _frames()
    path = write_gif(frames, tmp_path / "a.gif", fps=5, scale=scale)
    with Image.open(path) as gif:
        assert gif.n_frames == T and gif.size == (W * scale, H * scale)
        assert gif.info["loop"] == 0 and gif.info["duration"] == 200
        read = np.stack([np.asarray(f.convert("L")) for f in ImageSequence.Iterator(gif)])
    expected = render.to_uint8(frames).repeat(scale, 1).repeat(scale, 2)  # nearest neighbour
    np.testing.assert_array_equal(read, expected)


def test_gif_of_colour_frames(tmp_path):
    rgb = np.zeros((3, H, W, 3), np.uint8)
    rgb[:, :, :, 0] = 255  # red
    rgb[1, :, :, 1] = 255  # yellow
    path = write_gif(rgb, tmp_path / "c.gif")
    with Image.open(path) as gif:
        colours = [np.asarray(f.convert("RGB"))[0, 0].tolist() for f in ImageSequence.Iterator(gif)]
    assert colours == [[255, 0, 0], [255, 255, 0], [255, 0, 0]]


def _read_video(path):
    capture = cv2.VideoCapture(str(path))
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return fourcc, np.stack(frames)


@pytest.mark.parametrize("codecs", [render._WEBM_CODECS, ("VP90",)])
def test_write_video_is_webm_a_browser_can_play(tmp_path, monkeypatch, codecs):
    monkeypatch.setattr(render, "_WEBM_CODECS", codecs)
    frames = _frames()
    path = write_video(frames, tmp_path / "forecast.mp4", fps=4, scale=2)
    assert path == tmp_path / "forecast.webm"
    fourcc, read = _read_video(path)
    assert fourcc.upper() == codecs[0]
    assert read.shape == (T, 2 * H, 2 * W, 3)
    np.testing.assert_allclose(read[..., 0].mean(axis=(1, 2)) / 255, frames.mean(axis=(1, 2)), atol=0.03)


def test_write_video_pads_odd_sizes_to_even(tmp_path):
    _, read = _read_video(write_video(_frames(h=7, w=9), tmp_path / "odd.webm"))
    assert read.shape == (T, 8, 10, 3)


def test_write_video_falls_back_to_gif(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "_WEBM_CODECS", ("ZZZZ",))  # no such codec
    path = write_video(_frames(), tmp_path / "forecast.webm")
    assert path == tmp_path / "forecast.gif" and not (tmp_path / "forecast.webm").exists()
    with Image.open(path) as gif:
        assert gif.n_frames == T


def test_write_mp4_reads_back(tmp_path):
    frames = _frames(h=16, w=16)
    path = write_mp4(frames, tmp_path / "clip.mp4")
    out = read_sequence(path)
    assert out.shape == frames.shape
    assert np.abs(out - frames).mean() < 0.03


def test_save_png_round_trip(tmp_path):
    image = (np.random.default_rng(0).random((5, 7, 3)) * 255).astype(np.uint8)
    with Image.open(save_png(image, tmp_path / "p.png")) as png:
        np.testing.assert_array_equal(np.asarray(png), image)


def _grid(**kw):
    rows = [("truth", _frames()), Row("ConvLSTM", _frames())]
    options = {"column_labels": [f"+{i}" for i in range(1, T + 1)], "scale": 2} | kw
    return frame_grid(rows, **options)


def test_frame_grid_layout_and_labels():
    grid = _grid()
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    # Six cells of 2·W plus separators across; two rows of 2·H plus a header down.
    assert grid.shape[1] > T * 2 * W + (T - 1) * render.GAP and grid.shape[0] > 2 * 2 * H
    assert _grid(title="Forecast").shape[0] > grid.shape[0]
    # Labels draw ink, in the label column and over the cells; blank labels leave paper.
    label_w = grid.shape[1] - T * (2 * W + render.GAP)
    header_h = grid.shape[0] - 2 * (2 * H + render.GAP)
    blank = frame_grid([(" ", _frames()), (" ", _frames())], column_labels=[" "] * T)
    assert blank.shape[0] == grid.shape[0]
    for picture, inked in ((grid, True), (blank, False)):
        width = picture.shape[1] - T * (2 * W + render.GAP)
        assert (picture[header_h:, :width].min(axis=2) < 100).any() == inked
        assert (picture[:header_h, width:].min(axis=2) < 100).any() == inked
    assert label_w > render.PAD * 2


def test_frame_grid_cells_are_crisp():
    frames = _frames()
    grid = _grid()
    # Find the first gray cell by its top-left pixel value: a 2×2 block of exactly that value.
    cell = render.to_uint8(frames[0]).repeat(2, 0).repeat(2, 1)
    rows, cols = cell.shape
    found = [
        (y, x)
        for y in range(grid.shape[0] - rows)
        for x in range(grid.shape[1] - cols)
        if all(np.array_equal(grid[y:y + rows, x:x + cols, c], cell) for c in range(3))
    ]
    assert found, "the first frame appears, upscaled pixel for pixel"


def test_frame_grid_leaves_missing_cells_blank():
    grid = frame_grid([("a", _frames(t=2)), ("b", _frames(t=4))], column_labels=["1", "2", "3", "4"], scale=1)
    full = frame_grid([("a", _frames(t=4)), ("b", _frames(t=4))], column_labels=["1", "2", "3", "4"], scale=1)
    assert grid.shape == full.shape
    assert (grid == render.BACKGROUND).sum() > (full == render.BACKGROUND).sum()


def test_side_by_side_shapes_and_missing_panels():
    frames = _frames()
    out = side_by_side([("ConvLSTM", frames), ("truth", frames[:2])], scale=2)
    assert out.dtype == np.uint8 and out.shape[0] == T and out.shape[3] == 3
    assert out.shape[2] == 2 * (2 * W) + render.GAP
    assert out.shape[1] > 2 * H  # a header for the labels
    header = out.shape[1] - 2 * H
    left = out[:, header:, : 2 * W]
    right = out[:, header:, 2 * W + render.GAP:]
    np.testing.assert_array_equal(left[..., 0], render.to_uint8(frames).repeat(2, 1).repeat(2, 2))
    # After its two frames the truth panel is blank with an "n/a" in dark ink.
    assert (right[2:] == render.BLANK).mean() > 0.7 and right[2:].min() < 100
    np.testing.assert_array_equal(right[1, ..., 0], render.to_uint8(frames[1]).repeat(2, 0).repeat(2, 1))


def test_side_by_side_length_and_frame_labels():
    frames = _frames()
    plain = side_by_side([("a", frames)], length=T + 2)
    labelled = side_by_side([("a", frames)], frame_labels=[f"t{i}" for i in range(T)])
    assert plain.shape[0] == T + 2
    assert labelled.shape[1] > side_by_side([("a", frames)]).shape[1]
    assert not np.array_equal(labelled[0], labelled[1])
    colour = side_by_side([("rgb", np.zeros((2, H, W, 3), np.uint8)), ("gray", frames)], scale=1)
    assert colour.shape[0] == T


def test_gray_pages_keep_few_levels_and_stay_close(tmp_path):
    ramp = np.tile(np.arange(256, dtype=np.uint8), (40, 1))  # every gray level
    pages = np.stack([np.roll(ramp, 8 * t, axis=1) for t in range(6)])
    small = render.write_gif(pages, tmp_path / "small.gif", fps=4, colors=64)
    gif = Image.open(small)
    assert gif.n_frames == 6 and gif.info["loop"] == 0 and gif.info["duration"] == 250
    frames = np.stack(frames_of(small))[..., 0]
    assert len(np.unique(frames)) <= 64
    assert np.abs(frames.astype(int) - pages).max() <= 2  # 64 levels: at most half a step (2) off


def test_frame_grid_column_labels_may_take_two_lines():
    one = _grid(column_labels=[f"+{i}" for i in range(1, T + 1)])
    two = _grid(column_labels=[f"+{5 * i} min\n01:{5 * i:02d} UTC" for i in range(1, T + 1)])
    assert two.shape[0] == one.shape[0] + render._line_height(render.FONT_SCALE) and two.shape[1] == one.shape[1]


def test_text_block_wraps_to_its_width():
    credit = "Radar data: EUMETNET OPERA (open data, CC BY 4.0); modified (rain rate, 2×2 pixels averaged)"
    block = render.text_block(credit, 300)
    assert block.shape[1] == 300 and block.shape[0] > 2 * render._line_height(render.FONT_SCALE)  # several lines
    assert (block.min(axis=2) < 100).any()  # ink
    assert render.text_block("short", 300).shape[0] < block.shape[0]


def test_frame_grid_rows_are_as_tall_as_their_labels_for_any_aspect_ratio():
    strips = np.random.default_rng(0).random((3, 4, 64), dtype=np.float32)  # frames 16 times wider than tall
    grid = frame_grid([("+5 min\n01:25 UTC", strips), ("+10 min\n01:30 UTC", strips)], column_labels=["a", "b", "c"],
                      scale=1)
    line = render._line_height(render.FONT_SCALE)
    header = line + 2 * render.PAD
    assert grid.shape[0] == header + 2 * (2 * line + render.GAP)  # each row its two-line label's height, not 4 px
    assert render.label_width(["+5 min\n01:25 UTC"]) == render.label_width(["01:25 UTC"])  # its longest line


def test_frame_grid_title_wraps_to_the_grid():
    long = "Forecast frames by lead time (* past the training horizon of +10: extrapolation)"
    one_line, wrapped = (_grid(title=title) for title in ("Forecast", long))
    assert wrapped.shape[1] == one_line.shape[1] < render._text_size(long, render.TITLE_SCALE)[0]
    assert wrapped.shape[0] > one_line.shape[0]  # more lines, not ink past the edge


def test_a_long_method_name_is_wrapped_to_its_column():
    assert render.wrapped("ConvLSTM+advection", 64) == "ConvLSTM+\nadvection"
    assert render.wrapped("optical flow", 64) == "optical\nflow"
    assert render.wrapped("truth", 64) == "truth"
