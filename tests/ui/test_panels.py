"""A request's answer as the page shows it: the outputs of a forecast panel, in its order."""

import inspect

import gradio as gr
import pandas as pd
import pytest

from convlstm import EncoderForecaster
from convlstm.scoring.compare import compare
from convlstm.serve.pictures import render
from convlstm.serve.requests import Shown, moving_mnist_sequence
from convlstm.ui.panels import COLOURS, answered, keeping_the_page, named_colours, show, shown_on_page


def answer(tmp_path) -> Shown:
    model = EncoderForecaster(hidden_channels=[8], kernel_size=3).eval()
    comparison = compare(model, moving_mnist_sequence(3, 2, 14), context=10, horizon=4)
    return Shown(comparison, render(comparison, tmp_path))


def test_a_forecast_fills_its_panel_in_order(tmp_path):
    shown = answer(tmp_path)
    notes, video, gif, grid, narrow_grid, scores, plot, downloads, said = show(shown, ("From the caller.",))
    assert said.startswith("**In plain words:**")
    assert notes.startswith("- From the caller.")  # the caller's notes before the comparison's own
    assert (video is None) != (gif is None)  # one player: WebM, or the GIF where no encoder works
    assert (grid, narrow_grid) == (str(shown.files.grid), str(shown.files.narrow_grid))
    assert downloads == [str(p) for p in shown.files.downloads]
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
    notes, video, gif, grid, narrow_grid, scores, plot, *rest = shown_on_page(values)
    assert video.visible == (values[2] is None) and gif.visible == (values[2] is not None)
    assert [grid, narrow_grid, scores] == list(values[3:6]) and rest == list(values[7:])
    # The plot's legend in words, which wraps on a phone: the methods in their colours.
    assert [row[:2] for row in plot.value["data"]] == values[6].values[:, :2].tolist()  # every method, every lead
    assert plot.caption == "Lines: blue: ConvLSTM, red: optical flow, gray: persistence"
    assert plot.color_map == {"ConvLSTM": COLOURS["blue"], "optical flow": COLOURS["red"],
                              "persistence": COLOURS["gray"]}


def test_methods_without_a_colour_of_their_own_take_the_free_ones():
    plot = pd.DataFrame({"lead time": [1, 1, 1], "method": ["ConvLSTM", "second", "third"], "MSE/frame": [1, 2, 3]})
    assert named_colours(plot).caption == "Lines: blue: ConvLSTM, orange: second, red: third"


def test_rain_also_fills_the_diagram_the_locator_and_the_place(tmp_path):
    from convlstm.data import synthetic_radar

    model = EncoderForecaster(hidden_channels=[8], kernel_size=3, value_transform="dbz60").eval()
    comparison = compare(model, synthetic_radar.radar(1, seed=4, frames=8)[0], context=5, horizon=3)
    shown = Shown(comparison, render(comparison, tmp_path))
    *_, diagram, locator, place = show(shown)
    assert diagram == str(shown.files.diagram) and locator is None and place is None  # a synthetic loop lies nowhere


def test_bad_input_keeps_the_page_and_says_why_while_the_endpoint_raises(tmp_path):
    def request(seed, progress):
        if seed < 0:
            raise ValueError("The seed must be 0 or more.")
        return answer(tmp_path)

    def endpoint(seed: int, progress=gr.Progress()):  # noqa: B008 (how gradio injects the progress bar)
        return answered(request, seed, progress=progress)

    with pytest.raises(gr.Error, match="The seed must be 0 or more."):  # the API's answer
        endpoint(-1, progress=lambda *a, **k: None)
    event = keeping_the_page(endpoint, lambda values, inputs: list(values), kept=9)
    *kept, error = event(-1, lambda *a, **k: None)  # the page's
    assert all(isinstance(value, type(gr.skip())) for value in kept) and len(kept) == 9
    assert error.visible and "The seed must be 0 or more." in error.value
    *shown, error = event(3, lambda *a, **k: None)
    assert len(shown) == 9 and shown[3].endswith(".png") and not error.visible  # the next forecast hides it
    assert "progress" in inspect.signature(event).parameters  # gradio still finds the progress bar
