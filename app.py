"""ConvLSTM Nowcast: forecast the next frames of Moving MNIST or of your own sequence, beside
optical-flow and persistence baselines (and, for video, a second ConvLSTM with the advection head).
UI only; the work is in convlstm.showcase.

    python app.py                                   # the bundled checkpoint
    python app.py --model ORG/NAME --revision v1    # a Hub repo (or: CONVLSTM_MODEL=ORG/NAME)
    python app.py --model path/to/checkpoint        # a local folder
    python app.py --mcp                             # the forecasts as MCP tools too (requirements-mcp.txt)

A page opened as /?seed=7&digits=1&horizon=10 (optionally &model=ORG/NAME&revision=REV) shows
that Moving MNIST forecast; without such a query it shows one forecast made at start-up.
"""

# On Hugging Face ZeroGPU Spaces, `spaces` must be imported before torch; elsewhere it's absent
# and @gpu does nothing.
try:
    import spaces

    gpu = spaces.GPU
except ImportError:
    def gpu(fn):
        return fn

import argparse  # noqa: E402 (after the spaces import, on purpose)
import atexit  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from convlstm import CheckpointError, compare, io, links, load_model, radar, registry, scales, showcase  # noqa: E402
from convlstm.inference import ADVECTION_CHECKPOINT, ADVECTION_NAME, RADAR_CHECKPOINT  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent / "examples"
CONCURRENCY = 2  # forecasts running at once; the rest wait in the queue (a CPU Space has 2 cores)
GUIDE = """\
# ConvLSTM Nowcast
A Convolutional LSTM ([Shi et al., NeurIPS 2015](https://arxiv.org/abs/1506.04214)) forecasts the next frames,
beside two baselines: **optical flow** (the motion seen, continued) and **persistence** (the last frame stays).
"""
# The page at its natural sizes: the lead-time grid is shown pixel for pixel (its cells 64 px or more)
# and scrolls sideways where the screen is narrower; on a phone the forecast comes before the controls.
CSS = """
#guide h1 { margin-bottom: 0.2em; }
#guide strong, #model-line strong, .caption strong { font-size: inherit; }
#model-line { font-size: var(--text-md); }
.scores table { font-size: 13px; }  /* "ConvLSTM+advection" and two scores fit beside the animation */
.natural-size { max-width: 100%; }
.natural-size .image-container { overflow-x: auto; max-width: 100%; }
.natural-size .image-frame, .natural-size button { justify-content: flex-start; overflow: visible; }
.natural-size > .wrap { overflow-x: auto; max-width: 100%; }
.natural-size img, .natural-size video { width: auto !important; height: auto !important; max-width: none !important;
                    max-height: none !important; object-fit: none !important; }
@media (max-width: 768px) { #video-layout { flex-direction: column-reverse; flex-wrap: nowrap; align-items: stretch; } }
/* On a phone the radar animation's three 200-px windows fit the width: their colours matter more than its labels. */
@media (max-width: 768px) { #radar-animation-gif img { width: 100% !important; max-width: 100% !important;
                                                      object-fit: contain !important; } }
"""
COPY_LINK_JS = """
(query) => {
  if (!query || !query.startsWith("?")) return query;  // no link: the reason why, as it is
  const url = window.location.origin + window.location.pathname + query;
  try { navigator.clipboard.writeText(url).catch(() => {}); } catch (e) {}  // needs https or localhost
  return url;
}
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.environ.get("CONVLSTM_MODEL"),
                   help="Hub repo id (ORG/NAME) or checkpoint folder; default: env CONVLSTM_MODEL, "
                        "else the bundled checkpoints/moving-mnist")
    p.add_argument("--revision", default=os.environ.get("CONVLSTM_REVISION"),
                   help="Hub revision to pin: a branch, tag or commit hash (default: env CONVLSTM_REVISION)")
    p.add_argument("--hub-only", action="store_true", default=bool(os.environ.get("SPACE_ID")),
                   help="visitors may load other models from the Hugging Face Hub only, never a folder of this "
                        "server's (the default on a Hugging Face Space, which sets SPACE_ID)")
    p.add_argument("--mcp", action="store_true",
                   help="serve the forecasts as MCP tools too, at /gradio_api/mcp/ (needs the mcp package: "
                        "pip install -r requirements-mcp.txt); the same as env GRADIO_MCP_SERVER=True")
    return p.parse_args(argv)


# --- the model, loaded once at start-up -------------------------------------------------------

ARGS = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
MCP = ARGS.mcp or os.environ.get("GRADIO_MCP_SERVER", "").lower() == "true"
if MCP and importlib.util.find_spec("mcp") is None:
    raise SystemExit("The app can't start: the MCP server needs the mcp package: pip install -r requirements-mcp.txt")
if MCP:
    # The forecasts' gr.State input is the web session's model; an MCP call has no session and
    # uses the app's model, as the tool descriptions say.
    warnings.filterwarnings("ignore", message="This MCP server includes a tool that has a gr.State input")
MODELS = registry.ModelRegistry()
try:
    DEFAULT = MODELS.load(ARGS.model, ARGS.revision)
except CheckpointError as error:
    raise SystemExit(f"The app can't start: {error}") from None
# Beside every video forecast, whichever model a session chose: the bundled ConvLSTM with the advection
# head (a registry of its own, so it is never let go to make room for the models visitors load).
BESIDE = registry.ModelRegistry().load(str(ADVECTION_CHECKPOINT))
RADAR = load_model(RADAR_CHECKPOINT)  # the radar tab's model (5 frames in, 15 out)
RADAR_KIND = ("a ConvLSTM that moves the rain along the motion it predicts" if RADAR.forecast_head == "advection"
              else "the paper's ConvLSTM") \
    + (", its rain rates matched to the last frame's as S-PROG does" if RADAR.probability_matching else "")
REAL_RADAR_EXAMPLE = EXAMPLES / "radar" / "fmi_2016-09-28.npz"


def horizon_info(loaded: registry.LoadedModel) -> str:
    return f"frames to forecast; the model was trained for {loaded.model.horizon}, more is extrapolation"


# --- callbacks --------------------------------------------------------------------------------


def show(comparison: compare.Comparison, files: showcase.Rendered, notes: tuple[str, ...] = ()) -> tuple:
    """The outputs of every forecast button, in the order of OUTPUTS (and RADAR_OUTPUTS);
    ``notes`` go before the comparison's own."""
    headers, rows, best = compare.scores_table(comparison)
    table = pd.DataFrame(rows, columns=headers)
    digits = {h: "{:.1f}" if h.startswith("MSE/frame") else "{:.3f}" for h in headers[1:]}  # MSE/frame: ~100
    styles = table.style.format(digits, na_rep="n/a")
    for column, row in best.items():
        styles = styles.apply(lambda s, r=row: ["font-weight: bold; background-color: #d9f2d9" if i == r else ""
                                                for i in range(len(s))], subset=[column])
    plot_title = comparison.scale.plot[1]
    is_video = files.animation.suffix == ".webm"
    return (
        "\n".join(f"- {n}" for n in [*notes, *comparison.notes]),
        str(files.animation) if is_video else None,
        None if is_video else str(files.animation),
        str(files.grid),
        styles,
        pd.DataFrame(compare.lead_time_scores(comparison), columns=["lead time", "method", plot_title]),
        [str(p) for p in files.downloads],
    )


def beside(loaded: registry.LoadedModel) -> dict:
    """The models shown beside a video forecast's ConvLSTM: the advection one, unless it is that one."""
    return {} if loaded.info["source"] == BESIDE.info["source"] else {ADVECTION_NAME: BESIDE.model}


def run(model, frames, context, horizon, notes, progress, step_minutes=None, others=None) -> tuple:
    def report(fraction: float, text: str) -> None:
        progress(fraction, desc=text)

    comparison = compare.compare(model, frames, context=context, horizon=horizon, others=others,
                                 step_minutes=step_minutes, progress=report)
    comparison.notes[:0] = notes
    return show(comparison, showcase.render(comparison, showcase.scratch_folder(), progress=report))


# The docstrings of the endpoints below are their API and MCP descriptions: Gradio reads the first
# paragraph and one line per parameter under Args:. gr.Progress() as a default is how gradio
# injects the progress bar; model_key is the web session's model (a gr.State, not an API parameter).


@gpu
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
        horizon: how many frames to forecast, 1 to 20; lead times past the model's training horizon are extrapolation
        model_key: the web session's model; API and MCP calls use the app's model

    Returns:
        notes (markdown); the animation (WebM: input, then each method beside the truth), or None
        the animation as a GIF where no WebM encoder works (else None); the lead-time grid (PNG)
        the mean scores per method (MSE/frame, SSIM; best in bold); MSE/frame by lead time
        downloads: forecast_comparison.gif (the side-by-side animation, to share), the ConvLSTM forecast as .npy and GIF
    """
    try:
        loaded = MODELS.get(model_key)
        model = loaded.model
        frames = showcase.moving_mnist_sequence(seed, digits, model.context_frames, horizon)
        return run(model, frames, model.context_frames, horizon, [], progress, others=beside(loaded))
    except (ValueError, CheckpointError) as error:  # SequenceError is a ValueError
        raise gr.Error(str(error)) from None


@gpu
def forecast_upload(files: list[str], context: int, horizon: int, model_key: str | None = None,
                    progress=gr.Progress()) -> tuple:  # noqa: B008
    """Forecast your own gray frame sequence with the ConvLSTM, ConvLSTM+advection and the optical-flow and
    persistence baselines.
    The first context frames are the input; the frames after them, if any, are the truth the forecasts are
    scored against (MSE per frame and SSIM). Frames of any size; colour is read as gray.

    Args:
        files: the frames: an animated GIF/PNG/WebP, a video (MP4, MOV, WebM...), pictures, a ZIP of them, or .npy/.npz
        context: how many frames the forecast starts from, 1 to 50 (10 for the bundled model)
        horizon: how many frames to forecast, 1 to 20
        model_key: the web session's model; API and MCP calls use the app's model

    Returns:
        notes (markdown); the animation (WebM: input, then each method beside the truth), or None
        the animation as a GIF where no WebM encoder works (else None); the lead-time grid (PNG)
        the mean scores per method (MSE/frame, SSIM; best in bold); MSE/frame by lead time
        downloads: forecast_comparison.gif (the side-by-side animation, to share), the ConvLSTM forecast as .npy and GIF
    """
    try:
        progress(0.0, desc="reading the upload")
        upload = io.load_sequence(files or [])
        loaded = MODELS.get(model_key)
        return run(loaded.model, upload.frames, context, horizon, upload.notes, progress, others=beside(loaded))
    except (ValueError, CheckpointError) as error:
        raise gr.Error(str(error)) from None


@gpu
def forecast_radar(seed: int, intensity: float, motion: str, progress=gr.Progress()) -> tuple:  # noqa: B008
    """Nowcast a synthetic rain-radar loop with the radar ConvLSTM (5 frames 6 minutes apart in, 15 out,
    up to 90 minutes ahead) beside optical flow and persistence, scored with CSI, POD, FAR and FSS at
    0.5 mm/h, rain-rate MSE and correlation. Downloads hold rain rates in mm/h.

    Args:
        seed: which radar loop, a whole number from 0 to 2147483647; the same seed gives the same loop
        intensity: how heavy the rain is, 0.5 (light) to 2.0 (heavy); 1 is moderate
        motion: how the rain moves: translation, rotation, deformation or mixed
        progress: (set by the app)

    Returns:
        notes (markdown); None (radar animations are GIFs, which keep the colour scale exact)
        the animation as a GIF (input, then each method beside the truth); the lead-time grid (PNG)
        the mean skill scores per method (CSI, POD, FAR, FSS, MSE, correlation; best in bold); CSI by lead time
        downloads: forecast_comparison.gif (the side-by-side animation), the ConvLSTM forecast (mm/h) as .npy and GIF
    """
    try:
        seed = compare.whole_number("The seed", seed, 0, showcase.MAX_SEED)
        frames = radar.radar(1, seed=seed, intensity=float(intensity), motion=motion,
                             frames=RADAR.context_frames + RADAR.horizon)[0]
        return run(RADAR, frames, RADAR.context_frames, RADAR.horizon, [], progress)
    except ValueError as error:
        raise gr.Error(str(error)) from None


@gpu
def forecast_radar_upload(file: str, units: str, step_minutes: float = 6, progress=gr.Progress()) -> tuple:  # noqa: B008
    """Nowcast your own rain-radar loop with the radar ConvLSTM (its first 5 frames in, 15 out) beside
    optical flow and persistence, scored against the frames that follow.

    Args:
        file: the loop: .npy/.npz of rain rates (mm/h) or reflectivity (dBZ), or gray pictures/GIF (0-255 = 0-60 dBZ)
        units: the units of .npy/.npz values: mm/h or dBZ
        step_minutes: minutes between the loop's frames, for the lead times shown (the model steps one frame at a time)
        progress: (set by the app)

    Returns:
        notes (markdown); None (radar animations are GIFs, which keep the colour scale exact)
        the animation as a GIF (input, then each method beside the truth); the lead-time grid (PNG)
        the mean skill scores per method (CSI, POD, FAR, FSS, MSE, correlation; best in bold); CSI by lead time
        downloads: forecast_comparison.gif (the side-by-side animation), the ConvLSTM forecast (mm/h) as .npy and GIF
    """
    try:
        if not file:
            raise ValueError("Choose a radar file to upload first.")
        upload = io.load_sequence(file, raw=True)
        rain = radar.rain_from_upload(upload.frames, units, from_pixels=upload.from_pixels, name=Path(file).name)
        step = compare.whole_number("The minutes between frames", step_minutes, 1, 60)
        return run(RADAR, rain, RADAR.context_frames, RADAR.horizon, upload.notes, progress, step_minutes=step)
    except ValueError as error:  # SequenceError is a ValueError
        raise gr.Error(str(error)) from None


def load_other_model(source, revision, model_key=None):
    """Load another Hub repo id or checkpoint folder for this session (a gradio_client Client is one session)."""
    if not (source or "").strip():
        raise gr.Error("Type a Hub repo id such as ORG/NAME, or the path of a checkpoint folder.")
    kept = MODELS.get(model_key).info["source"]
    try:
        loaded = MODELS.load_from_hub(source.strip(), (revision or "").strip() or None) if ARGS.hub_only \
            else MODELS.load(source, revision)
    except (ValueError, CheckpointError) as error:
        raise gr.Error(f"{error}. Still using {kept}.") from None
    if loaded.model.value_transform != "unit":
        units = scales.scale_named(loaded.model.value_transform).units
        raise gr.Error(f"{source.strip()} forecasts {units}, not gray video frames; the radar tab serves the radar "
                       f"model. Still using {kept}.")
    return loaded.key, loaded.summary


def model_settings(model_key):
    """Slider defaults and hints that follow the session's model."""
    loaded = MODELS.get(model_key)
    info = horizon_info(loaded)
    return gr.Slider(info=info), gr.Slider(value=loaded.model.context_frames), gr.Slider(info=info)


def model_headline(model_key) -> str:
    """The video tab's model line: the session's model, and the one beside it."""
    loaded = MODELS.get(model_key)
    return registry.headline_markdown(loaded.info, (ADVECTION_NAME, BESIDE.info) if beside(loaded) else None)


def video_or_gif(gif):
    """Show the GIF player only when the animation came out as a GIF (no WebM encoder)."""
    return gr.Video(visible=gif is None), gr.Image(visible=gif is not None)


def random_seed() -> int:
    return random.randint(0, 99_999)


# --- the first view, and links that reproduce a forecast --------------------------------------

FIRST_SEED, FIRST_DIGITS = 2015, 2  # the forecast a page without a link query shows
FIRST_HORIZON = DEFAULT.model.horizon
UPLOAD_NO_LINK = (f"An uploaded sequence can't travel in a link. To share this forecast, download "
                  f"{showcase.COMPARISON_GIF} (the side-by-side animation) below and send that.")


def _first_view() -> tuple[compare.Comparison, showcase.Rendered]:
    """The forecast every page without a link query starts with: made once, at start-up, by the
    app's model, into a folder of its own (scratch folders are removed after an hour; this one
    lasts as long as the app)."""
    model = DEFAULT.model
    frames = showcase.moving_mnist_sequence(FIRST_SEED, FIRST_DIGITS, model.context_frames, FIRST_HORIZON)
    comparison = compare.compare(model, frames, context=model.context_frames, horizon=FIRST_HORIZON,
                                 others=beside(DEFAULT))
    folder = tempfile.mkdtemp(prefix="convlstm-first-view-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return comparison, showcase.render(comparison, folder)


FIRST_VIEW = _first_view()


def link_model(link: dict) -> registry.LoadedModel:
    """The Hub model a link names, or the app's model."""
    if not link["model"]:
        return DEFAULT
    source = link["model"]
    loaded = MODELS.load_from_hub(source, link["revision"])
    if loaded.model.value_transform != "unit":
        raise CheckpointError(f"{source} forecasts {scales.scale_named(loaded.model.value_transform).units}, "
                              "not gray video frames")
    return loaded


def share_query(seed, digits, horizon, model_key) -> str:
    """The URL query of a Moving MNIST forecast (to add to the page's address), or why there is none."""
    query = links.share_query(seed, digits, horizon, model_key, default_key=DEFAULT.key)
    if query is None:
        return (f"This forecast uses the model in the folder {model_key.rpartition('@')[0]}; a link can only name "
                f"a model on the Hugging Face Hub. To share it, download {showcase.COMPARISON_GIF} below and "
                "send that.")
    return query


def shown(values: tuple) -> list:
    """A forecast's outputs for the page (not the API): the player that fits the animation shown."""
    notes, video, gif, *rest = values
    return [notes, gr.Video(value=video, visible=gif is None), gr.Image(value=gif, visible=gif is not None), *rest]


def first_view(request: gr.Request):
    """On page load, at once: the start-up forecast, or, for a link, its controls and the link read
    (into pending_link, whose change makes link_forecast run). A bad link shows the start-up
    forecast and says why."""
    comparison, files = FIRST_VIEW
    defaults = [FIRST_SEED, FIRST_DIGITS, FIRST_HORIZON]
    try:
        link = links.read_link(request.query_params, seed=FIRST_SEED, digits=FIRST_DIGITS, horizon=FIRST_HORIZON)
    except ValueError as error:
        gr.Warning(str(error))
        note = f"{error} Showing the start-up forecast instead."
        return [None, *defaults, *shown(show(comparison, files, (note,))),
                share_query(*defaults, DEFAULT.key), ""]
    controls = [link["seed"], link["digits"], link["horizon"]] if link else defaults
    if link is None or (controls == defaults and not link["model"]):  # the start-up forecast's own link too
        return [None, *defaults, *shown(show(comparison, files)), share_query(*defaults, DEFAULT.key), ""]
    return [link, *controls, *[gr.skip()] * len(OUTPUTS), gr.skip(), ""]


def link_forecast(link, progress=gr.Progress()):  # noqa: B008
    """A link's forecast, with the model it names; where that can't be, the start-up forecast and why.
    Outputs: the Moving MNIST controls, the session's model (key, summary, headline), OUTPUTS, the link."""
    if link is None:  # not a link's page
        return [gr.skip()] * (6 + len(OUTPUTS) + 1)
    seed, digits, horizon = link["seed"], link["digits"], link["horizon"]
    try:
        loaded = link_model(link)
        values = forecast_moving_mnist(seed, digits, horizon, loaded.key, progress)
    except (ValueError, CheckpointError, gr.Error) as error:
        message = f"This link's forecast can't be made: {getattr(error, 'message', error)}."
        gr.Warning(message)
        comparison, files = FIRST_VIEW
        return [FIRST_SEED, FIRST_DIGITS, gr.Slider(value=FIRST_HORIZON, info=horizon_info(DEFAULT)), DEFAULT.key,
                DEFAULT.summary, model_headline(DEFAULT.key),
                *shown(show(comparison, files, (f"{message} Showing the start-up forecast instead.",))),
                share_query(FIRST_SEED, FIRST_DIGITS, FIRST_HORIZON, None)]
    return [seed, digits, gr.Slider(value=horizon, info=horizon_info(loaded)), loaded.key, loaded.summary,
            model_headline(loaded.key), *shown(values), share_query(seed, digits, horizon, loaded.key)]


def forecast_panel(scale: scales.Scale, name: str, under_scores: list | None = None) -> list:
    """The outputs of a forecast, laid out: notes, animation (video; a GIF for a colour scale or where no
    WebM encoder works) beside the scores (and the unrendered components ``under_scores``, in a row under them),
    the frame grid (at its natural size), the score by lead time beside the downloads. A scale with
    more scores than fit beside the animation (radar's seven) has the plot beside the animation and
    the scores in a row of their own under it. ``show`` fills the outputs in the order returned.
    ``name`` prefixes their element ids (``name-scores``, ...), for tests and page styles."""
    wide = showcase.scores_under_animation(scale)

    def scores_table():
        table = gr.Dataframe(label="Mean scores (best in bold)", interactive=False, elem_id=f"{name}-scores",
                             elem_classes="scores")
        if under_scores:
            with gr.Row(equal_height=True):
                for component in under_scores:
                    component.render()
        return table

    def lead_time_plot(**layout):
        title = scale.plot[1]
        better = "higher" if any("↑" in h for h, key in scale.table.items() if key == scale.plot[0]) else "lower"
        return gr.LinePlot(x="lead time", y=title, color="method", label=f"{title} by lead time",
                           y_title=f"{title} ({better} is better)", **layout)

    notes = gr.Markdown(elem_id=f"{name}-notes")
    with gr.Row():
        with gr.Column(scale=3, min_width=300):
            gr.Markdown("**Animation:** the input, then each forecast beside the truth (persistence holds the "
                        "last input); **+k**: k frames after it", elem_classes="caption")
            video = gr.Video(label="Animation", show_label=False, autoplay=True, loop=True, interactive=False,
                             elem_id=f"{name}-animation", elem_classes="natural-size")
            # No toolbar: on a phone it would cover the last panel's title; the GIF is among the downloads.
            video_gif = gr.Image(label="Animation (GIF)", show_label=False, visible=False, interactive=False,
                                 buttons=[], elem_id=f"{name}-animation-gif", elem_classes="natural-size")
        with gr.Column(scale=2, min_width=280):
            plot, scores = (lead_time_plot(), None) if wide else (None, scores_table())
    if wide:
        scores = scores_table()
    grid = gr.Image(label="Frames by lead time", show_label=False, type="filepath", interactive=False,
                    elem_id=f"{name}-grid", elem_classes="natural-size")
    with gr.Row():
        if not wide:
            plot = lead_time_plot(scale=3)
        downloads = gr.File(label=f"Downloads: the side-by-side animation (GIF, to share); the ConvLSTM forecast "
                                  f"(.npy float32 frames, {scale.units}; animated GIF)",
                            file_count="multiple", interactive=False, scale=2, elem_id=f"{name}-downloads")
    return [notes, video, video_gif, grid, scores, plot, downloads]


# --- the page ---------------------------------------------------------------------------------

with gr.Blocks(title="ConvLSTM Nowcast", delete_cache=(600, 3600)) as demo:
    model_key = gr.State(DEFAULT.key)
    pending_link = gr.State(None)  # the forecast a link asks for, between first_view and link_forecast
    gr.Markdown(GUIDE, elem_id="guide")

    with gr.Tabs():
        with gr.Tab("Video frames"):
            # The video model's line lives in its tab: the radar tab names its own model.
            model_line = gr.Markdown(model_headline(DEFAULT.key), elem_id="model-line")
            with gr.Row(elem_id="video-layout"):
                with gr.Column(scale=1, min_width=300):
                    with gr.Tabs():
                        with gr.Tab("Moving MNIST"):
                            with gr.Row(equal_height=True):
                                seed = gr.Number(value=FIRST_SEED, label="Seed", precision=0, minimum=0,
                                                 maximum=showcase.MAX_SEED, scale=2, min_width=120, elem_id="seed")
                                dice = gr.Button("Random seed", scale=1, min_width=100)
                            digits = gr.Slider(1, showcase.MAX_DIGITS, value=FIRST_DIGITS, step=1, label="Digits",
                                               elem_id="digits")
                            mnist_horizon = gr.Slider(1, compare.MAX_HORIZON, value=FIRST_HORIZON, step=1,
                                                      label="Horizon", info=horizon_info(DEFAULT),
                                                      elem_id="horizon")
                            mnist_button = gr.Button("Forecast", variant="primary")
                            mnist_examples = gr.Examples([[2015, 2, 10], [7, 1, 10], [1506, 3, 10], [42, 2, 20]],
                                                         inputs=[seed, digits, mnist_horizon],
                                                         label="Examples (click to run)", api_visibility="private")
                        with gr.Tab("Your sequence"):
                            gr.Markdown(f"Upload {io.SUPPORTED}. The first *context* frames are the input; the "
                                        "frames after them are the ground truth the forecasts are scored against.")
                            upload = gr.File(label="Frames", file_count="multiple", elem_id="upload")
                            context = gr.Slider(1, compare.MAX_CONTEXT, value=DEFAULT.model.context_frames, step=1,
                                                label="Context length", info="input frames the forecast starts from")
                            upload_horizon = gr.Slider(1, compare.MAX_HORIZON, value=DEFAULT.model.horizon, step=1,
                                                       label="Horizon", info=horizon_info(DEFAULT))
                            upload_button = gr.Button("Forecast", variant="primary")
                            example_files = [[[str(p)], 10, 10] for p in sorted(EXAMPLES.glob("*")) if p.is_file()]
                            upload_examples = gr.Examples(example_files, inputs=[upload, context, upload_horizon],
                                                          label="Example files (click to run)",
                                                          api_visibility="private")
                    with gr.Accordion("Model details, or load another model", open=False, elem_id="model-panel"):
                        model_summary = gr.Markdown(DEFAULT.summary)
                        source = gr.Textbox(label="Hub repo id" if ARGS.hub_only else "Hub repo id or folder",
                                            placeholder="ORG/NAME" if ARGS.hub_only
                                            else "ORG/NAME, or a folder: checkpoints/moving-mnist-advection")
                        revision = gr.Textbox(label="Revision (optional)", placeholder="main, a tag or a commit")
                        load_button = gr.Button("Load model")
                with gr.Column(scale=3):
                    # under the scores: the link that reproduces the forecast shown (uploads: why there is none)
                    link_query = gr.Textbox(visible="hidden", elem_id="share-query", render=False)
                    copy_link = gr.Button("Copy link", size="sm", scale=0, min_width=110, elem_id="copy-link",
                                          render=False)
                    link_box = gr.Textbox(show_label=False, container=False, interactive=False, max_lines=4, scale=1,
                                          placeholder="a link that reproduces this forecast", elem_id="share-link",
                                          render=False)
                    OUTPUTS = forecast_panel(scales.SCALES["unit"], "video", [link_query, copy_link, link_box])
        with gr.Tab("Radar nowcast"):
            gr.Markdown(
                f"Rain radar, as in the paper: {RADAR.context_frames} frames in, {RADAR.horizon} out, with the "
                f"bundled `checkpoints/radar` model ({RADAR_KIND}, {RADAR.num_parameters():,} parameters, trained "
                "on synthetic radar on a CPU; its model card compares it with optical flow and pysteps on real "
                "radar). Try the **real example** below (one click), generate a synthetic loop, or upload "
                "one: `.npy`/`.npz` of rain rates in mm/h or reflectivity in dBZ (say which), or gray "
                "pictures/GIF where pixel 0–255 means 0–60 dBZ. Colours: the usual reflectivity scale. "
                "Scores at 0.5 mm/h unless named: CSI, POD, FAR (rain = more than the threshold), "
                "FSS over 11 px, rain-rate MSE and correlation.")
            with gr.Row(equal_height=True):
                radar_seed = gr.Number(value=4, label="Seed", precision=0, minimum=0, maximum=showcase.MAX_SEED)
                intensity = gr.Slider(0.5, 2.0, value=1.0, step=0.25, label="Intensity",
                                      info="0.5 light, 1 moderate, 2 heavy rain")
                motion = gr.Dropdown(list(radar.MOTIONS), value="mixed", label="Motion")
                radar_button = gr.Button("Generate and forecast", variant="primary")
            with gr.Row(equal_height=True):
                radar_file = gr.File(label="Or upload a radar loop", file_count="single", elem_id="radar-upload")
                units = gr.Radio(list(radar.UPLOAD_UNITS), value="mm/h", label="Units of .npy/.npz values")
                step_minutes = gr.Number(value=RADAR.step_minutes, label="Minutes between frames", precision=0,
                                         minimum=1, maximum=60)
                radar_upload_button = gr.Button("Forecast the upload")
            radar_examples = gr.Examples(
                [[str(REAL_RADAR_EXAMPLE), "mm/h", 5]], inputs=[radar_file, units, step_minutes],
                label="Real radar (click to run): a rain band over Finland, 2016-09-28 14:45-16:20 UTC, 5-minute "
                      "frames. Data: Finnish Meteorological Institute, CC BY 4.0; converted to rain rate, "
                      "3×3 block-averaged, one 100×100 window", api_visibility="private")
            RADAR_OUTPUTS = forecast_panel(scales.scale_named(RADAR.value_transform), "radar")
            for event in (
                radar_button.click(forecast_radar, [radar_seed, intensity, motion], RADAR_OUTPUTS,
                                   api_name="forecast_radar"),
                radar_upload_button.click(forecast_radar_upload, [radar_file, units, step_minutes], RADAR_OUTPUTS,
                                          api_name="forecast_radar_upload"),
                radar_examples.load_input_event.then(forecast_radar_upload, [radar_file, units, step_minutes],
                                                     RADAR_OUTPUTS, api_visibility="private"),
            ):
                event.success(video_or_gif, RADAR_OUTPUTS[2], RADAR_OUTPUTS[1:3], api_visibility="private")

    dice.click(random_seed, outputs=seed, api_visibility="private")
    mnist_inputs = [seed, digits, mnist_horizon, model_key]
    upload_inputs = [upload, context, upload_horizon, model_key]
    # All video forecasts share the queue's CONCURRENCY slots, the buttons, the examples and links alike.
    for event, linkable in (
        (mnist_button.click(forecast_moving_mnist, mnist_inputs, OUTPUTS, api_name="forecast_moving_mnist",
                            concurrency_id="video-forecast"), True),
        (mnist_examples.load_input_event.then(forecast_moving_mnist, mnist_inputs, OUTPUTS, api_visibility="private",
                                              concurrency_id="video-forecast"), True),
        (upload_button.click(forecast_upload, upload_inputs, OUTPUTS, api_name="forecast_upload",
                             concurrency_id="video-forecast"), False),
        (upload_examples.load_input_event.then(forecast_upload, upload_inputs, OUTPUTS, api_visibility="private",
                                               concurrency_id="video-forecast"), False),
    ):
        event.success(video_or_gif, OUTPUTS[2], OUTPUTS[1:3], api_visibility="private")
        if linkable:  # the link of what is shown now; the link box is cleared until asked again
            event.success(lambda *inputs: (share_query(*inputs), ""), mnist_inputs, [link_query, link_box],
                          api_visibility="private")
        else:
            event.success(lambda: (UPLOAD_NO_LINK, UPLOAD_NO_LINK), None, [link_query, link_box],
                          api_visibility="private")
    copy_link.click(None, link_query, link_box, js=COPY_LINK_JS)

    # The first view: the start-up forecast at once, outside the forecasts' queue slots; for a
    # link, its forecast after that, in them (pending_link only changes for a link).
    demo.load(first_view, None, [pending_link, seed, digits, mnist_horizon, *OUTPUTS, link_query, link_box],
              api_visibility="private", concurrency_limit=None)
    pending_link.change(link_forecast, pending_link,
                        [seed, digits, mnist_horizon, model_key, model_summary, model_line, *OUTPUTS, link_query],
                        api_visibility="private", concurrency_id="video-forecast", show_progress_on=OUTPUTS)

    # Loading a model is per web session: an MCP call has none, so it is no MCP tool (still an API endpoint).
    loading = load_button.click(load_other_model, [source, revision, model_key], [model_key, model_summary],
                                api_name="load_model", api_visibility="undocumented" if MCP else "public")
    loading.success(model_settings, model_key, [mnist_horizon, context, upload_horizon], api_visibility="private")
    loading.success(model_headline, model_key, model_line, api_visibility="private")

demo.queue(default_concurrency_limit=CONCURRENCY)

if __name__ == "__main__":
    # SIGTERM (a container or a Space stopping) as a normal exit, so that the atexit clean-up runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    demo.launch(max_file_size=io.MAX_FILE_BYTES, allowed_paths=[str(EXAMPLES)], css=CSS, mcp_server=MCP)
