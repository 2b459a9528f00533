"""The video tab built as the app builds it (not launched): its endpoints, and nothing loaded to build it."""

import gradio as gr

from convlstm.serve.requests import Backend
from convlstm.ui.video_tab import video_tab


def build(hub_only=False, mcp=False):
    backend = Backend()
    with gr.Blocks() as page:
        tab = video_tab(backend, gpu=lambda fn: fn, hub_only=hub_only, mcp=mcp)
    return backend, page, tab


def test_the_tab_serves_its_forecasts_and_loads_nothing_to_be_built():
    backend, page, tab = build()
    endpoints = {d.api_name: d for d in page.fns.values() if d.api_name}
    assert {"forecast_moving_mnist", "forecast_upload", "load_model"} <= set(endpoints)
    assert "Returns:" in endpoints["forecast_moving_mnist"].fn.__doc__  # its API and MCP description
    assert endpoints["load_model"].api_visibility == "public"
    assert backend.models.default is None  # no model loaded while the page is built
    # the model's summary and line, the settings, the pending link, the controls, the panel, the link (kept, shown)
    assert len(tab.shown_on_load) == 2 + 2 + 1 + 3 + 9 + 2


def test_an_mcp_server_keeps_loading_a_model_out_of_its_tools():
    _, page, _ = build(mcp=True)
    load = next(d for d in page.fns.values() if d.api_name == "load_model")
    assert load.api_visibility == "undocumented"  # still an API endpoint, no MCP tool: an MCP call has no session


def test_on_a_space_the_model_box_asks_for_a_hub_repo_id_only():
    _, page, _ = build(hub_only=True)
    labels = {b.label for b in page.blocks.values() if isinstance(b, gr.Textbox)}
    assert "Hub repo id" in labels and "Hub repo id or folder" not in labels
