"""A request's answer as the page shows it: the outputs of a forecast panel, in its order."""

import pandas as pd

from convlstm import EncoderForecaster
from convlstm.scoring.compare import compare
from convlstm.serve.pictures import render
from convlstm.serve.requests import Shown, moving_mnist_sequence
from convlstm.ui.panels import show, shown_on_page, video_or_gif


def answer(tmp_path) -> Shown:
    model = EncoderForecaster(hidden_channels=[8], kernel_size=3).eval()
    comparison = compare(model, moving_mnist_sequence(3, 2, 14), context=10, horizon=4)
    return Shown(comparison, render(comparison, tmp_path))


def test_a_forecast_fills_its_panel_in_order(tmp_path):
    shown = answer(tmp_path)
    notes, video, gif, grid, scores, plot, downloads = show(shown, ("From the caller.",))
    assert notes.startswith("- From the caller.")  # the caller's notes before the comparison's own
    assert (video is None) != (gif is None)  # one player: WebM, or the GIF where no encoder works
    assert grid == str(shown.files.grid) and downloads == [str(p) for p in shown.files.downloads]
    table = scores.data
    assert list(table.columns) == ["method", "MSE/frame ↓", "SSIM ↑"]
    assert list(table["method"]) == ["ConvLSTM", "optical flow", "persistence"]
    scores._compute()  # the styles each cell gets
    bold = {cell for cell, styles in scores.ctx.items() if ("font-weight", "bold") in styles}
    assert bold == {(table["MSE/frame ↓"].idxmin(), 1), (table["SSIM ↑"].idxmax(), 2)}  # the best of each column
    assert isinstance(plot, pd.DataFrame) and list(plot.columns) == ["lead time", "method", "MSE/frame"]
    assert len(plot) == 3 * 4  # every method at every lead time


def test_the_page_shows_the_player_that_fits_the_animation(tmp_path):
    values = show(answer(tmp_path))
    notes, video, gif, *rest = shown_on_page(values)
    assert video.visible == (values[2] is None) and gif.visible == (values[2] is not None)
    assert rest == list(values[3:])
    webm, player = video_or_gif(None)
    assert webm.visible and not player.visible


def test_rain_also_fills_the_diagram_the_locator_and_the_place(tmp_path):
    from convlstm.data import synthetic_radar

    model = EncoderForecaster(hidden_channels=[8], kernel_size=3, value_transform="dbz60").eval()
    comparison = compare(model, synthetic_radar.radar(1, seed=4, frames=8)[0], context=5, horizon=3)
    shown = Shown(comparison, render(comparison, tmp_path))
    *_, diagram, locator, place = show(shown)
    assert diagram == str(shown.files.diagram) and locator is None and place is None  # a synthetic loop lies nowhere
