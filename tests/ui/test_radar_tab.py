"""The radar tab built as the app builds it (not launched): its endpoints, its examples, its window controls."""

from datetime import datetime, timezone

import gradio as gr

from convlstm.data.composites import Place
from convlstm.serve.requests import Backend, radar_example_titles
from convlstm.ui.radar_tab import radar_tab, window_controls


def place(top=10, left=20, grid=(130, 220)) -> Place:
    return Place(top, left, grid, 2, 2.0, (datetime(2024, 11, 26, 1, tzinfo=timezone.utc),), 5, "EUMETNET OPERA",
                 "Radar data: EUMETNET OPERA")


def test_the_tab_serves_its_forecasts_and_one_button_per_real_example():
    backend = Backend()  # nothing loads while the page is built
    with gr.Blocks() as page:
        tab = radar_tab(backend, gpu=lambda fn: fn)
    endpoints = {d.api_name: d for d in page.fns.values() if d.api_name}
    assert {"forecast_radar_composites", "move_radar_window", "forecast_radar_upload", "forecast_radar"} <= set(
        endpoints)
    assert "Returns:" in endpoints["forecast_radar_composites"].fn.__doc__  # its API and MCP description
    buttons = {b.value for b in page.blocks.values() if isinstance(b, gr.Button)}
    assert {f"▶ {title}" for title in radar_example_titles()} <= buttons
    assert backend._radar is None and backend._radar_examples is None  # no model, no forecast yet
    # the model line, the panel, the window controls, the link (kept, shown), the error, the synthetic tab and controls
    assert len(tab.shown_on_load) == 1 + 12 + 3 + 2 + 1 + 1 + 3


def test_the_window_controls_show_where_there_are_files_to_move_it_over():
    row, top, left = window_controls(place(), movable=True)
    assert row.visible and (top.value, left.value) == (10, 20)
    assert top.info == "0 (top) to 30" and left.info == "0 (left) to 120"  # the grid less the 100-px window
    row, *_ = window_controls(place(), movable=False)  # a real example: a window saved without its composite
    assert not row.visible
    row, *_ = window_controls(None, movable=True)  # a synthetic loop, or a loop uploaded: no place
    assert not row.visible
