"""`python app.py --mcp`: the forecasts as MCP tools, listed from Gradio's schema endpoint and called
over the MCP transport (streamable HTTP) with the `mcp` client library (requirements-mcp.txt)."""

import asyncio
import json
import urllib.request

import pytest
from test_app import App

pytest.importorskip("mcp")
from mcp import ClientSession  # noqa: E402
from mcp.client.streamable_http import streamablehttp_client  # noqa: E402

pytestmark = pytest.mark.slow
TOOLS = {"forecast_moving_mnist", "forecast_upload", "forecast_radar", "forecast_radar_upload",
         "forecast_radar_composites", "move_radar_window"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    running = App(tmp_path_factory.mktemp("mcp"), "--mcp")
    try:
        yield running.wait()
    finally:
        running.stop()


def test_the_forecasts_are_described_tools(app):
    with urllib.request.urlopen(app.url + "gradio_api/mcp/schema", timeout=60) as response:
        tools = {tool["name"]: tool for tool in json.load(response)}
    assert set(tools) == TOOLS  # loading a model is per web session: no tool
    mnist = tools["forecast_moving_mnist"]
    assert mnist["description"].startswith("Forecast a Moving MNIST sequence with the ConvLSTM")
    assert "forecast_comparison.gif" in mnist["description"]  # what it returns, from the docstring
    properties = mnist["inputSchema"]["properties"]
    assert set(properties) == {"seed", "digits", "horizon"}  # the session's model (a gr.State) is no parameter
    assert properties["seed"]["type"] == "integer" and "0 to 2147483647" in properties["seed"]["description"]
    assert "1, 2 or 3" in properties["digits"]["description"]
    loop = tools["forecast_radar_upload"]["inputSchema"]["properties"]
    assert "mm/h or dBZ" in loop["units"]["description"]
    assert loop["step_minutes"]["description"].endswith("(the model steps one frame at a time)")  # a wrapped line
    composites = tools["forecast_radar_composites"]
    assert "ODIM HDF5" in composites["description"] and "locator map" in composites["description"]
    assert set(tools["move_radar_window"]["inputSchema"]["properties"]) == {"files", "row", "column"}


async def call_forecast(url: str, arguments: dict):
    async with streamablehttp_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        listed = {tool.name for tool in (await session.list_tools()).tools}
        return listed, await session.call_tool("forecast_moving_mnist", arguments)


def test_an_assistant_calls_a_forecast(app, tmp_path):
    arguments = {"seed": 7, "digits": 1, "horizon": 10}
    listed, result = asyncio.run(asyncio.wait_for(call_forecast(app.url + "gradio_api/mcp/", arguments), 300))
    assert listed == TOOLS and not result.isError
    text = "\n".join(part.text for part in result.content if part.type == "text")
    expected = app.client(tmp_path).predict(*arguments.values(), api_name="/forecast_moving_mnist")
    for row in expected[5]["metadata"]["display_value"]:  # the same scores as the API's, for the same inputs
        assert str(row) in text
    assert "forecast_comparison.gif" in text and "frames_by_lead_time.png" in text  # the files, by address
