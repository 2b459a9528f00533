"""A comparison drawn for people: the animation, the lead-time grid, the downloads and the shared GIF."""

import os
import time
from datetime import datetime, timezone

import cv2
import numpy as np
import pytest
from PIL import Image

from convlstm import EncoderForecaster
from convlstm.data import synthetic_radar
from convlstm.scoring.compare import compare
from convlstm.serve import pictures, requests
from convlstm.viz import colors, plots, render
from tests.helpers import frames_of


def test_render_writes_readable_files(model, sequence, tmp_path):
    c = compare(model, sequence, context=10, horizon=10)
    out = pictures.render(c, tmp_path / "out")
    for path in (out.animation, out.grid, *out.downloads):
        assert path.parent == tmp_path / "out" and path.stat().st_size > 0
    if out.animation.suffix == ".webm":
        capture = cv2.VideoCapture(str(out.animation))
        count = 0
        while capture.grab():
            count += 1
        assert count == 20  # 10 input frames, then 10 forecast frames
    else:
        assert Image.open(out.animation).n_frames == 20
    grid = Image.open(out.grid)
    # now + 10 columns; rows truth, ConvLSTM, optical flow (persistence is the "now" column held)
    assert grid.format == "PNG" and grid.width > 11 * 64 and 3 * 64 < grid.height < 5 * 64
    np.testing.assert_array_equal(np.load(out.forecast_npy), c.forecasts["ConvLSTM"])
    gif = Image.open(out.forecast_gif)
    assert gif.n_frames == 10 or len(np.unique(c.forecasts["ConvLSTM"])) == 1  # GIF merges equal frames


def test_grid_has_a_truth_row_only_with_truth(model, sequence):
    with_truth = pictures.lead_time_grid(compare(model, sequence, context=10, horizon=5))
    without = pictures.lead_time_grid(compare(model, sequence[:10], context=10, horizon=5))
    rows = (with_truth.shape[0] - without.shape[0]) / (64 + 2)  # cells of 64 px, gap 2
    assert rows == pytest.approx(1)


def test_models_beside_the_convlstm_get_a_grid_row_and_an_animation_panel(model, sequence, tmp_path):
    alone = compare(model, sequence, context=10, horizon=5)
    beside = compare(model, sequence, context=10, horizon=5, others={"second": model})
    assert list(beside.forecasts) == ["ConvLSTM", "second", "optical flow", "persistence"]
    np.testing.assert_array_equal(beside.forecasts["second"], beside.forecasts["ConvLSTM"])
    assert set(beside.scores) == set(beside.forecasts)
    rows = (pictures.lead_time_grid(beside).shape[0] - pictures.lead_time_grid(alone).shape[0]) / (64 + 2)
    assert rows == pytest.approx(1)
    wide, narrow = (Image.open(pictures.render(c, tmp_path / name).comparison_gif)
                    for name, c in (("beside", beside), ("alone", alone)))
    assert wide.width - narrow.width >= 128  # one more panel of about 128 px
    assert wide.width == 4 * 128 + 3 * render.GAP  # four panels share the animation's 512 px


def test_wider_room_enlarges_the_panels_a_whole_number_of_times(model, sequence, tmp_path):
    c = compare(model, sequence, context=10, horizon=5)  # three panels of 64-px frames
    for width, panel in ((512, 128), (620, 192), (200, 64), (150, 50)):  # 2×, 3×, as they are, shrunk
        shown = Image.open(pictures.render(c, tmp_path / str(width), width=width).comparison_gif)
        assert shown.width == 3 * panel + 2 * render.GAP


def test_a_colour_scale_is_animated_as_the_gif_that_keeps_its_palette(tmp_path):
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=2, value_transform="dbz60", step_minutes=5).eval()
    c = compare(model, synthetic_radar.radar(1, seed=1, frames=5, size=40)[0], context=3, horizon=2)
    out = pictures.render(c, tmp_path)
    assert out.animation == out.comparison_gif  # not video, whose 4:2:0 colour would smear one-pixel cells


def test_big_uploads_are_shrunk_for_display(model, tmp_path):
    frames = np.random.default_rng(1).random((4, 300, 500), dtype=np.float32)
    c = compare(model, frames, context=3, horizon=2)
    out = pictures.render(c, tmp_path)
    assert np.load(out.forecast_npy).shape == (2, 300, 500)  # the download keeps full size
    assert Image.open(out.grid).width < 1400


def test_radar_comparison_renders_in_reflectivity_colours_with_a_legend(tmp_path):
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=4, value_transform="dbz60", step_minutes=6).eval()
    frames = synthetic_radar.radar(1, seed=1, frames=6, size=40)[0]  # mm/h: 3 in, 3 of the 4 lead times have truth
    c = compare(model, frames, context=3, horizon=4)
    assert c.lead_labels() == ["+6 min", "+12 min", "+18 min", "+24 min"]
    assert any("+6 min to +18 min" in n for n in c.notes)
    out = pictures.render(c, tmp_path)
    np.testing.assert_array_equal(np.load(out.forecast_npy), c.forecasts["ConvLSTM"])  # mm/h, as given
    grid = np.asarray(Image.open(out.grid).convert("RGB"))
    legend = colors.legend_image()
    assert grid.shape[1] >= legend.shape[1]
    colours = {tuple(rgb) for _, rgb in colors.REFLECTIVITY_COLORS}
    assert colours & {tuple(p) for p in grid.reshape(-1, 3)}  # rain drawn in the reflectivity scale
    bottom = grid[-legend.shape[0]:]
    left = (grid.shape[1] - legend.shape[1]) // 2
    np.testing.assert_array_equal(bottom[:, left:left + legend.shape[1]], legend)


def test_scratch_folder_removes_old_folders(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    stale = time.time() - pictures.SCRATCH_MAX_AGE_S - 10
    os.utime(old, (stale, stale))
    fresh = pictures.scratch_folder(tmp_path)
    assert fresh.is_dir() and fresh.parent == tmp_path and not old.exists()
    assert pictures.scratch_folder(tmp_path) != fresh


def test_colour_pages_share_one_small_palette(tmp_path):
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=4, value_transform="dbz60", step_minutes=6).eval()
    c = compare(model, synthetic_radar.radar(1, seed=1, frames=7, size=40)[0], context=3, horizon=4)
    out = pictures.render(c, tmp_path)
    frames = np.stack(frames_of(out.comparison_gif))
    assert len(frames) == 3 + 4  # the input, then each lead time
    assert len(np.unique(frames.reshape(-1, 3), axis=0)) <= pictures.GIF_COLOURS
    assert frames.shape[1] > 40 and frames.shape[2] > 4 * 40  # labels, four panels, the colour legend


def test_render_puts_the_side_by_side_gif_first_among_the_downloads(tmp_path):
    model = EncoderForecaster(hidden_channels=[8], kernel_size=3).eval()
    c = compare(model, requests.moving_mnist_sequence(3, 2, 20), context=10, horizon=10)
    out = pictures.render(c, tmp_path)
    assert [p.name for p in out.downloads] == [pictures.COMPARISON_GIF, "convlstm_forecast.npy",
                                               "convlstm_forecast.gif"]
    frames = frames_of(out.comparison_gif)
    assert len(frames) == 20 and frames[0].shape[1] > 3 * 128  # ConvLSTM, optical flow, truth: about 128 px each
    full = render.write_gif(np.stack(frames), tmp_path / "full.gif")  # the same pages at 256 levels
    assert out.comparison_gif.stat().st_size < full.stat().st_size
    if out.animation.suffix == ".gif":  # no WebM encoder here: the small GIF is the animation as well
        assert out.animation == out.comparison_gif


def test_a_radar_window_is_drawn_with_its_coverage_times_credit_diagram_and_locator(tmp_path):
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=4, value_transform="dbz60", step_minutes=6).eval()
    frames = synthetic_radar.radar(1, seed=1, frames=6, size=40)[0]
    covered = np.ones((40, 40), bool)
    covered[:, 30:] = False
    now = datetime(2024, 11, 26, 1, 20, tzinfo=timezone.utc)
    credit = "Radar data: EUMETNET OPERA (open data, CC BY 4.0); modified (one window cut)"
    plain = pictures.render(compare(model, frames, context=3, horizon=4, step_minutes=5), tmp_path / "plain")
    c = compare(model, frames, context=3, horizon=4, step_minutes=5, now=now, covered=covered, credit=credit)
    locator = np.zeros((30, 50, 3), np.uint8)
    out = pictures.render(c, tmp_path / "placed", locator=locator)
    grid = np.asarray(Image.open(out.grid).convert("RGB"))
    pages = frames_of(out.comparison_gif)
    for picture in (grid, pages[0]):
        assert (picture == colors.UNCOVERED).all(-1).sum() > 4 * 10 * 40  # the uncovered strip, in every panel
    assert not (np.asarray(Image.open(plain.grid).convert("RGB")) == colors.UNCOVERED).all(-1).sum() > 4 * 10 * 40
    # Two-line clock labels, the "no radar" swatch and the credit make both pictures taller than without them.
    assert grid.shape[0] > np.asarray(Image.open(plain.grid)).shape[0] + 2 * render.FONT_SCALE * 20
    uncredited = compare(model, frames, context=3, horizon=4, step_minutes=5, now=now, covered=covered)
    without = frames_of(pictures.render(uncredited, tmp_path / "uncredited").comparison_gif)[0]
    credit_lines = render.text_block(credit, pages[0].shape[1])
    assert pages[0].shape[0] == without.shape[0] + render.PAD + credit_lines.shape[0]  # the credit, under the legend
    assert (pages[0][-credit_lines.shape[0]:].min(axis=2) < 100).any()  # in ink
    assert np.asarray(Image.open(out.locator)).shape == (30, 50, 3) and plain.locator is None
    diagram = np.asarray(Image.open(out.diagram).convert("RGB"))
    assert diagram.shape[1] == 560 and (diagram == plots.COLORS["ConvLSTM"]).all(-1).any()
    assert pictures.render(compare(model, frames[:3], context=3, horizon=4), tmp_path / "no truth").diagram is None


@pytest.mark.parametrize(("side", "horizon"), [(64, 10), (64, 3), (100, 15), (300, 20)])
def test_the_grid_fits_its_box_on_a_laptop_screen(model, side, horizon):
    frames = np.random.default_rng(0).random((10 + horizon, side, side)).astype(np.float32)
    grid = pictures.lead_time_grid(compare(model, frames, context=10, horizon=horizon))
    assert grid.shape[1] <= pictures.GRID_WIDTH  # no lead time cut off at 1400 px


def test_the_narrow_grid_fits_a_phone_one_row_per_lead_time(model, sequence):
    c = compare(model, sequence, context=10, horizon=10, others={"second": model})  # four columns with the truth
    narrow = pictures.lead_time_grid(c, narrow=True)
    wide = pictures.lead_time_grid(c)
    assert narrow.shape[1] <= pictures.NARROW_GRID_WIDTH < wide.shape[1]
    assert narrow.shape[0] > 11 * 64  # "now" and ten lead times, down the page, frames pixel for pixel


def test_the_narrow_radar_grid_folds_its_legend_to_fit(tmp_path):
    model = EncoderForecaster(frame_size=100, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=4, value_transform="dbz60", step_minutes=5).eval()
    c = compare(model, synthetic_radar.radar(1, seed=1, frames=7, size=100)[0], context=3, horizon=4)
    out = pictures.render(c, tmp_path)
    assert Image.open(out.narrow_grid).width <= pictures.NARROW_GRID_WIDTH < colors.legend_image().shape[1]
    assert Image.open(out.grid).width >= colors.legend_image().shape[1]  # the wide one keeps its legend whole
