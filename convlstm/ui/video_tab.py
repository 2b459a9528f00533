"""The video tab: a Moving MNIST forecast by seed, or one of your own sequence, by the session's model beside
ConvLSTM+advection, optical flow and persistence; links that reproduce a Moving MNIST forecast; another model to load
for the session. The forecasts are also API and MCP endpoints, whose docstrings are their descriptions."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from ..core.checkpoint import CheckpointError
from ..core.values import GRAY
from ..data import limits, mnist
from ..scoring.compare import MAX_CONTEXT, MAX_HORIZON
from ..serve import links, requests
from ..serve.requests import FIRST_DIGITS, FIRST_SEED, Backend
from .panels import (
    answered,
    copy_on_click,
    error_box,
    example_buttons,
    forecast_panel,
    keeping_the_page,
    returning,
    share_controls,
    show,
    shown_on_page,
    to_controls,
    told,
)

# gr.Progress() as a default is how gradio injects the progress bar; model_key is the web session's
# model (a gr.State, not an API parameter).
RETURNS = """
notes (markdown); the animation (WebM: input, then each method beside the truth), or None
the animation as a GIF where no WebM encoder works (else None); the lead-time grid (PNG)
the same grid one row per lead time, to fit a phone (PNG)
the mean scores per method (MSE/frame, SSIM; best in bold); MSE/frame by lead time
downloads: forecast_comparison.gif (the side-by-side animation, to share), the ConvLSTM forecast as .npy and GIF
the verdict in plain words (markdown): which forecast is closest, which looks most like the truth, how far ahead
"""
CONCURRENCY_ID = "video-forecast"  # every video forecast shares the queue's slots: buttons, examples and links


@dataclass
class VideoTab:
    first_view: Callable[[gr.Request], list]  # what the page load shows...
    shown_on_load: list  # ...in these
    share_text: Callable[..., str]  # (seed, digits, horizon, model_key): the share box's text


def video_tab(backend: Backend, gpu: Callable, *, hub_only: bool, mcp: bool) -> VideoTab:
    """The tab, its events and its endpoints; ``gpu`` decorates the forecasts (ZeroGPU's spaces.GPU on a Space).
    ``hub_only``: other models load from the Hub only; ``mcp``: the app is an MCP server too."""

    @gpu
    @returning(RETURNS)
    def forecast_moving_mnist(seed: int, digits: int, horizon: int, model_key: str | None = None,
                              progress=gr.Progress()) -> tuple:  # noqa: B008
        """Forecast a Moving MNIST sequence with the ConvLSTM and, beside it, ConvLSTM+advection (one that moves the
        last frame along the motion it predicts) and the optical-flow and persistence baselines, each scored against
        the true frames (MSE per frame, lower is better; SSIM, higher is better).
        The sequence (handwritten test-set digits moving in 64x64 frames) is fully determined by seed and digits;
        the model reads its context frames (10 for the bundled model) and forecasts horizon frames.

        Args:
            seed: which sequence, a whole number from 0 to 2147483647; the same seed gives the same forecast
            digits: how many digits move in the frames: 1, 2 or 3
            horizon: how many frames to forecast, 1 to 20; past the model's training horizon is extrapolation
            model_key: the web session's model; API and MCP calls use the app's model

        """
        return answered(backend.moving_mnist, seed, digits, horizon, model_key, progress=progress)

    @gpu
    @returning(RETURNS)
    def forecast_upload(files: list[str], context: int, horizon: int, model_key: str | None = None,
                        progress=gr.Progress()) -> tuple:  # noqa: B008
        """Forecast your own gray frame sequence with the ConvLSTM, ConvLSTM+advection and the optical-flow and
        persistence baselines.
        The first context frames are the input; the frames after them, if any, are the truth the forecasts are
        scored against (MSE per frame and SSIM). Frames of any size; colour is read as gray.

        Args:
            files: an animated GIF/PNG/WebP, a video (MP4, MOV, WebM...), pictures, a ZIP of them, or .npy/.npz
            context: how many frames the forecast starts from, 1 to 50 (10 for the bundled model)
            horizon: how many frames to forecast, 1 to 20
            model_key: the web session's model; API and MCP calls use the app's model

        """
        return answered(backend.upload, files, context, horizon, model_key, progress=progress)

    def load_other_model(source, revision, model_key=None):
        """Load another Hub repo id or checkpoint folder for this session (a gradio_client Client is one session)."""
        try:
            loaded = backend.load_model(source, (revision or "").strip() or None, model_key)
        except (ValueError, CheckpointError) as error:
            raise gr.Error(str(error)) from None
        return loaded.key, loaded.summary

    def horizon_info(model_key) -> str:
        trained = backend.session_model(model_key).model.horizon
        return f"frames to forecast; the model was trained for {trained}, more is extrapolation"

    def model_settings(model_key):
        """Slider defaults and hints that follow the session's model."""
        info = horizon_info(model_key)
        return gr.Slider(info=info), gr.Slider(value=backend.session_model(model_key).model.context_frames), \
            gr.Slider(info=info)

    def share_text(seed, digits, horizon, model_key) -> str:
        """The share box: the forecast's link query, or why it has none."""
        return links.share_text(seed, digits, horizon, model_key, default_key=backend.default.key)

    def random_seed() -> int:
        return random.randint(0, 99_999)

    def first_view(request: gr.Request):
        """On page load, at once: the model's lines and settings and the start-up forecasts, or, for a link,
        its controls and the link read (into pending_link, whose change makes link_forecast run). A bad
        link shows the start-up forecast and says why."""
        default = backend.default
        horizon = default.model.horizon
        page = [default.summary, backend.headline(None), gr.Slider(value=default.model.context_frames),
                gr.Slider(value=horizon, info=horizon_info(None))]
        controls = [FIRST_SEED, FIRST_DIGITS, gr.Slider(value=horizon, info=horizon_info(None))]
        start_up = [*controls, *shown_on_page(show(backend.first_view)), share_text(FIRST_SEED, FIRST_DIGITS,
                                                                                              horizon, None), ""]
        try:
            link = links.read_link(request.query_params, seed=FIRST_SEED, digits=FIRST_DIGITS, horizon=horizon)
        except ValueError as error:
            gr.Warning(str(error))
            start_up[3:3 + len(OUTPUTS)] = shown_on_page(show(backend.first_view,
                                                              (f"{error} Showing the start-up forecast instead.",)))
            return [*page, None, *start_up]
        if link is None or ([link["seed"], link["digits"], link["horizon"]] == [FIRST_SEED, FIRST_DIGITS, horizon]
                            and not link["model"]):  # the start-up forecast's own link too
            return [*page, None, *start_up]
        return [*page, link, link["seed"], link["digits"], link["horizon"], *[gr.skip()] * len(OUTPUTS), gr.skip(), ""]

    def link_forecast(link, progress=gr.Progress()):  # noqa: B008
        """A link's forecast, with the model it names; where that can't be, the start-up forecast and why.
        Outputs: the Moving MNIST controls, the session's model (key, summary, headline), OUTPUTS, the link."""
        if link is None:  # not a link's page
            return [gr.skip()] * (6 + len(OUTPUTS) + 1)
        seed, digits, horizon = link["seed"], link["digits"], link["horizon"]
        try:
            loaded = backend.link_model(link["model"], link["revision"])
            values = forecast_moving_mnist(seed, digits, horizon, loaded.key, progress)
        except (ValueError, CheckpointError, gr.Error) as error:
            message = f"This link's forecast can't be made: {getattr(error, 'message', error)}."
            gr.Warning(message)
            default = backend.default
            return [FIRST_SEED, FIRST_DIGITS, gr.Slider(value=default.model.horizon, info=horizon_info(None)),
                    default.key, default.summary, backend.headline(None),
                    *shown_on_page(show(backend.first_view, (f"{message} Showing the start-up forecast instead.",))),
                    share_text(FIRST_SEED, FIRST_DIGITS, default.model.horizon, None)]
        return [seed, digits, gr.Slider(value=horizon, info=horizon_info(loaded.key)), loaded.key, loaded.summary,
                backend.headline(loaded.key), *shown_on_page(values),
                share_text(seed, digits, horizon, loaded.key)]

    # --- the page --------------------------------------------------------------------------------

    with gr.Tab("Video frames", id="video"):  # (a component outside a tab would make a tab of its own)
        model_key = gr.State(None)  # the session's model; None: the app's
        pending_link = gr.State(None)  # the forecast a link asks for, between first_view and link_forecast
        # The video model's line lives in its tab: the radar tab names its own model.
        model_line = gr.Markdown(elem_id="model-line")  # the page load fills in the model lines and settings
        with gr.Row(elem_id="video-layout"):
            with gr.Column(scale=1, min_width=300, elem_id="video-controls"):
                with gr.Tabs():
                    with gr.Tab("Moving MNIST"):
                        with gr.Row(equal_height=True):
                            seed = gr.Number(value=FIRST_SEED, label="Seed", precision=0, minimum=0,
                                             maximum=requests.MAX_SEED, scale=2, min_width=120, elem_id="seed")
                            dice = gr.Button("Random seed", scale=1, min_width=100)
                        digits = gr.Slider(1, requests.MAX_DIGITS, value=FIRST_DIGITS, step=1, label="Digits",
                                           elem_id="digits")
                        mnist_horizon = gr.Slider(1, MAX_HORIZON, value=mnist.HORIZON, step=1, label="Horizon",
                                                  elem_id="horizon")
                        mnist_button = gr.Button("Forecast", variant="primary")
                        mnist_error = error_box()
                        mnist_examples = example_buttons({
                            (s, d, h): (f"Seed {s}, {d} digit{'s' * (d > 1)}" + (f", {h} ahead" if h != 10 else ""),
                                        requests.moving_mnist_thumbnail(s, d))
                            for s, d, h in requests.MOVING_MNIST_EXAMPLES})
                    with gr.Tab("Your sequence"):
                        gr.Markdown(f"Upload {limits.SUPPORTED}. The first *context* frames are the input; the "
                                    "frames after them are the ground truth the forecasts are scored against.")
                        upload = gr.File(label="Frames", file_count="multiple", elem_id="upload")
                        context = gr.Slider(1, MAX_CONTEXT, value=mnist.CONTEXT, step=1,
                                            label="Context length", info="input frames the forecast starts from")
                        upload_horizon = gr.Slider(1, MAX_HORIZON, value=mnist.HORIZON, step=1, label="Horizon")
                        upload_button = gr.Button("Forecast", variant="primary")
                        upload_error = error_box()
                        upload_examples = example_buttons({path: (path.name, requests.upload_thumbnail(path))
                                                           for path in requests.upload_examples()})
                with gr.Accordion("Model details, or load another model", open=False, elem_id="model-panel"):
                    model_summary = gr.Markdown()
                    source = gr.Textbox(label="Hub repo id" if hub_only else "Hub repo id or folder",
                                        placeholder="ORG/NAME" if hub_only
                                        else "ORG/NAME, or a folder: checkpoints/moving-mnist-advection")
                    revision = gr.Textbox(label="Revision (optional)", placeholder="main, a tag or a commit")
                    load_button = gr.Button("Load model")
                    load_error = error_box()
            with gr.Column(scale=3):
                to_controls("video")
                link_query, copy_link, link_box = share_controls()  # under the scores
                OUTPUTS = forecast_panel(GRAY, "video", [link_query, copy_link, link_box])
                api_only = gr.Button(visible=False)

    mnist_inputs = [seed, digits, mnist_horizon, model_key]
    upload_inputs = [upload, context, upload_horizon, model_key]
    # The page's events keep the page on bad input, saying why under the button pressed (and hiding what the other
    # tab's said); API and MCP calls reach the endpoints through a button the page never shows, and get their
    # errors as errors. All video forecasts share the queue's CONCURRENCY slots, the buttons, examples and links.
    shown = [*OUTPUTS, link_query, link_box]  # the link box is cleared until asked again
    mnist_shown = keeping_the_page(forecast_moving_mnist, lambda values, inputs: [
        *shown_on_page(values), share_text(*inputs[:4]), "", told(None)], len(shown) + 1)
    upload_shown = keeping_the_page(forecast_upload, lambda values, inputs: [
        *shown_on_page(values), *(requests.UPLOAD_NO_LINK,) * 2, told(None)], len(shown) + 1)
    # An example puts its values into the controls, then runs as their button does.
    mnist_clicks = [button.click(lambda e=example: list(e), None, [seed, digits, mnist_horizon],
                                 api_visibility="private").then for example, button in mnist_examples.items()]
    upload_clicks = [button.click(lambda p=path: [[str(p)], mnist.CONTEXT, mnist.HORIZON], None,
                                  [upload, context, upload_horizon], api_visibility="private").then
                     for path, button in upload_examples.items()]
    for event, fn, inputs, errors in (
        *((click, mnist_shown, mnist_inputs, [upload_error, mnist_error]) for click in [mnist_button.click,
                                                                                      *mnist_clicks]),
        *((click, upload_shown, upload_inputs, [mnist_error, upload_error]) for click in [upload_button.click,
                                                                                        *upload_clicks]),
    ):
        event(fn, inputs, [*shown, *errors], api_visibility="private", concurrency_id=CONCURRENCY_ID)
    # A new seed is a new forecast: the controls never disagree with the picture and its link.
    dice.click(random_seed, outputs=seed, api_visibility="private").then(
        mnist_shown, mnist_inputs, [*shown, upload_error, mnist_error], api_visibility="private",
        concurrency_id=CONCURRENCY_ID)
    for endpoint, inputs in ((forecast_moving_mnist, mnist_inputs), (forecast_upload, upload_inputs)):
        api_only.click(endpoint, inputs, OUTPUTS, api_name=endpoint.__name__, concurrency_id=CONCURRENCY_ID)
    copy_on_click(copy_link, link_query, link_box)

    # The first view: the start-up forecast at once, outside the forecasts' queue slots; for a
    # link, its forecast after that, in them (pending_link only changes for a link).
    pending_link.change(link_forecast, pending_link,
                        [seed, digits, mnist_horizon, model_key, model_summary, model_line, *OUTPUTS, link_query],
                        api_visibility="private", concurrency_id=CONCURRENCY_ID, show_progress_on=OUTPUTS)

    # Loading a model is per web session: an MCP call has none, so it is no MCP tool (still an API endpoint).
    api_only.click(load_other_model, [source, revision, model_key], [model_key, model_summary], api_name="load_model",
                   api_visibility="undocumented" if mcp else "public")
    load_button.click(keeping_the_page(load_other_model, lambda values, inputs: [
        *values, *model_settings(values[0]), backend.headline(values[0])], 6),
        [source, revision, model_key], [model_key, model_summary, mnist_horizon, context, upload_horizon, model_line,
                                        load_error], api_visibility="private")

    return VideoTab(first_view, [model_summary, model_line, context, upload_horizon, pending_link, seed, digits,
                                 mnist_horizon, *OUTPUTS, link_query, link_box], share_text)
