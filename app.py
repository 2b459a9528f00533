"""ConvLSTM Nowcast: forecast the next frames of Moving MNIST or of your own sequence, beside
optical-flow and persistence baselines. UI only; the work is in convlstm.showcase.

    python app.py                                   # the bundled checkpoint
    python app.py --model ORG/NAME --revision v1    # a Hub repo (or: CONVLSTM_MODEL=ORG/NAME)
    python app.py --model path/to/checkpoint        # a local folder
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
import os  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from convlstm import CheckpointError, compare, io, load_model, radar, registry, scales, showcase  # noqa: E402
from convlstm.inference import RADAR_CHECKPOINT  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent / "examples"
CONCURRENCY = 2  # forecasts running at once; the rest wait in the queue (a CPU Space has 2 cores)
GUIDE = """\
# ConvLSTM Nowcast
Forecast the next frames of a sequence with a Convolutional LSTM
([Shi et al., NeurIPS 2015](https://arxiv.org/abs/1506.04214)), shown beside two classical
baselines: **optical flow** (move the last frame along the motion seen) and **persistence**
(the last frame stays). Lead time **+k** is k frames after the last input frame.
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.environ.get("CONVLSTM_MODEL"),
                   help="Hub repo id (ORG/NAME) or checkpoint folder; default: env CONVLSTM_MODEL, "
                        "else the bundled checkpoints/moving-mnist")
    p.add_argument("--revision", default=os.environ.get("CONVLSTM_REVISION"),
                   help="Hub revision to pin: a branch, tag or commit hash (default: env CONVLSTM_REVISION)")
    return p.parse_args(argv)


# --- the model, loaded once at start-up -------------------------------------------------------

ARGS = parse_args(sys.argv[1:] if __name__ == "__main__" else [])
MODELS = registry.ModelRegistry()
try:
    DEFAULT = MODELS.load(ARGS.model, ARGS.revision)
except CheckpointError as error:
    raise SystemExit(f"The app can't start: {error}") from None
RADAR = load_model(RADAR_CHECKPOINT)  # the radar tab's model (5 frames in, 15 out)


def horizon_info(loaded: registry.LoadedModel) -> str:
    return f"frames to forecast; the model was trained for {loaded.model.horizon}, more is extrapolation"


# --- callbacks --------------------------------------------------------------------------------


def show(comparison: compare.Comparison, files: showcase.Rendered) -> tuple:
    """The outputs of every forecast button, in the order of OUTPUTS (and RADAR_OUTPUTS)."""
    headers, rows, best = compare.scores_table(comparison)
    table = pd.DataFrame(rows, columns=headers)
    styles = table.style.format({h: "{:.1f}" if "MSE" in h else "{:.3f}" for h in headers[1:]}, na_rep="n/a")
    for column, row in best.items():
        styles = styles.apply(lambda s, r=row: ["font-weight: bold; background-color: #d9f2d9" if i == r else ""
                                                for i in range(len(s))], subset=[column])
    plot_title = comparison.scale.plot[1]
    is_video = files.animation.suffix == ".webm"
    return (
        "\n".join(f"- {n}" for n in comparison.notes),
        str(files.animation) if is_video else None,
        None if is_video else str(files.animation),
        str(files.grid),
        styles,
        pd.DataFrame(compare.lead_time_scores(comparison), columns=["lead time", "method", plot_title]),
        [str(p) for p in files.downloads],
    )


def run(model, frames, context, horizon, notes, progress) -> tuple:
    def report(fraction: float, text: str) -> None:
        progress(fraction, desc=text)

    comparison = compare.compare(model, frames, context=context, horizon=horizon, progress=report)
    comparison.notes[:0] = notes
    return show(comparison, showcase.render(comparison, showcase.scratch_folder(), progress=report))


# gr.Progress() as a default is how gradio injects the progress bar.
@gpu
def forecast_moving_mnist(seed, digits, horizon, model_key=None, progress=gr.Progress()):  # noqa: B008
    try:
        model = MODELS.get(model_key).model
        frames = showcase.moving_mnist_sequence(seed, digits, model.context_frames, horizon)
        return run(model, frames, model.context_frames, horizon, [], progress)
    except (ValueError, CheckpointError) as error:  # SequenceError is a ValueError
        raise gr.Error(str(error)) from None


@gpu
def forecast_upload(files, context, horizon, model_key=None, progress=gr.Progress()):  # noqa: B008
    try:
        progress(0.0, desc="reading the upload")
        upload = io.load_sequence(files or [])
        return run(MODELS.get(model_key).model, upload.frames, context, horizon, upload.notes, progress)
    except (ValueError, CheckpointError) as error:
        raise gr.Error(str(error)) from None


@gpu
def forecast_radar(seed, intensity, motion, progress=gr.Progress()):  # noqa: B008
    try:
        seed = compare.whole_number("The seed", seed, 0, showcase.MAX_SEED)
        frames = radar.radar(1, seed=seed, intensity=float(intensity), motion=motion,
                             frames=RADAR.context_frames + RADAR.horizon)[0]
        return run(RADAR, frames, RADAR.context_frames, RADAR.horizon, [], progress)
    except ValueError as error:
        raise gr.Error(str(error)) from None


@gpu
def forecast_radar_upload(file, units, progress=gr.Progress()):  # noqa: B008
    try:
        if not file:
            raise ValueError("Choose a radar file to upload first.")
        upload = io.load_sequence(file, raw=True)
        rain = radar.rain_from_upload(upload.frames, units, from_pixels=upload.from_pixels, name=Path(file).name)
        return run(RADAR, rain, RADAR.context_frames, RADAR.horizon, upload.notes, progress)
    except ValueError as error:  # SequenceError is a ValueError
        raise gr.Error(str(error)) from None


def load_other_model(source, revision, model_key=None):
    if not (source or "").strip():
        raise gr.Error("Type a Hub repo id such as ORG/NAME, or the path of a checkpoint folder.")
    kept = MODELS.get(model_key).info["source"]
    try:
        loaded = MODELS.load(source, revision)
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


def video_or_gif(gif):
    """Show the GIF player only when the animation came out as a GIF (no WebM encoder)."""
    return gr.Video(visible=gif is None), gr.Image(visible=gif is not None)


def random_seed() -> int:
    return random.randint(0, 99_999)


def forecast_panel(scale: scales.Scale, name: str) -> list:
    """The outputs of a forecast, laid out: notes, animation (video, or a GIF where no WebM encoder
    works), scores, score by lead time, frame grid, downloads. ``show`` fills them in this order.
    ``name`` prefixes their element ids (``name-scores``, ...), for tests and page styles."""
    notes = gr.Markdown()
    with gr.Row():
        with gr.Column(scale=3):
            gr.Markdown("**Animation:** the input frames, then each method's forecast beside the truth")
            video = gr.Video(label="Animation", show_label=False, autoplay=True, loop=True, interactive=False)
            video_gif = gr.Image(label="Animation (GIF)", visible=False, interactive=False)
        with gr.Column(scale=2):
            scores = gr.Dataframe(label="Mean scores (best in bold)", interactive=False, elem_id=f"{name}-scores")
            title = scale.plot[1]
            better = "higher" if any("↑" in h for h, key in scale.table.items() if key == scale.plot[0]) else "lower"
            plot = gr.LinePlot(x="lead time", y=title, color="method", label=f"{title} by lead time",
                               y_title=f"{title} ({better} is better)")
    grid = gr.Image(label="Frames by lead time", show_label=False, type="filepath", interactive=False,
                    elem_id=f"{name}-grid")
    downloads = gr.File(label=f"Download the ConvLSTM forecast (.npy float32 frames, {scale.units}; animated GIF)",
                        file_count="multiple", interactive=False)
    return [notes, video, video_gif, grid, scores, plot, downloads]


# --- the page ---------------------------------------------------------------------------------

with gr.Blocks(title="ConvLSTM Nowcast", delete_cache=(600, 3600)) as demo:
    model_key = gr.State(DEFAULT.key)
    gr.Markdown(GUIDE)
    with gr.Accordion("Model", open=True):
        model_summary = gr.Markdown(DEFAULT.summary)
        with gr.Row():
            source = gr.Textbox(label="Hub repo id or folder", placeholder="ORG/NAME or checkpoints/moving-mnist",
                                scale=3)
            revision = gr.Textbox(label="Revision (optional)", placeholder="main, a tag or a commit", scale=1)
            load_button = gr.Button("Load model", scale=1)

    with gr.Tabs():
        with gr.Tab("Video frames"):
            with gr.Tabs():
                with gr.Tab("Moving MNIST"):
                    with gr.Row(equal_height=True):
                        seed = gr.Number(value=2015, label="Seed", precision=0, minimum=0, maximum=showcase.MAX_SEED,
                                         scale=2)
                        dice = gr.Button("Random seed", scale=1)
                        digits = gr.Slider(1, showcase.MAX_DIGITS, value=2, step=1, label="Digits", scale=2)
                        mnist_horizon = gr.Slider(1, compare.MAX_HORIZON, value=DEFAULT.model.horizon, step=1,
                                                  label="Horizon", info=horizon_info(DEFAULT), scale=4)
                    mnist_button = gr.Button("Forecast", variant="primary")
                    mnist_examples = gr.Examples([[2015, 2, 10], [7, 1, 10], [1506, 3, 10], [42, 2, 20]],
                                                 inputs=[seed, digits, mnist_horizon], label="Examples (click to run)",
                                                 api_visibility="private")
                with gr.Tab("Your sequence"):
                    gr.Markdown(f"Upload {io.SUPPORTED}. The first *context* frames are the input; the frames "
                                "after them are the ground truth the forecasts are scored against.")
                    with gr.Row():
                        upload = gr.File(label="Frames", file_count="multiple", scale=2, elem_id="upload")
                        with gr.Column(scale=1):
                            context = gr.Slider(1, compare.MAX_CONTEXT, value=DEFAULT.model.context_frames, step=1,
                                                label="Context length", info="input frames the forecast starts from")
                            upload_horizon = gr.Slider(1, compare.MAX_HORIZON, value=DEFAULT.model.horizon, step=1,
                                                       label="Horizon", info=horizon_info(DEFAULT))
                            upload_button = gr.Button("Forecast", variant="primary")
                    example_files = [[[str(p)], 10, 10] for p in sorted(EXAMPLES.glob("*")) if p.is_file()]
                    upload_examples = gr.Examples(example_files, inputs=[upload, context, upload_horizon],
                                                  label="Example files (click to run)", api_visibility="private")

            OUTPUTS = forecast_panel(scales.SCALES["unit"], "video")
        with gr.Tab("Radar nowcast"):
            gr.Markdown(
                f"Rain radar, as in the paper: {RADAR.context_frames} frames (6 minutes apart) in, "
                f"{RADAR.horizon} out ({6 * RADAR.horizon} minutes), with the bundled `checkpoints/radar` model "
                f"({RADAR.num_parameters():,} parameters, trained briefly on a CPU: optical flow still beats it; "
                "see its model card). Generate a synthetic radar loop, or upload "
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
                radar_upload_button = gr.Button("Forecast the upload")
            RADAR_OUTPUTS = forecast_panel(scales.scale_named(RADAR.value_transform), "radar")
            for event in (
                radar_button.click(forecast_radar, [radar_seed, intensity, motion], RADAR_OUTPUTS,
                                   api_name="forecast_radar"),
                radar_upload_button.click(forecast_radar_upload, [radar_file, units], RADAR_OUTPUTS,
                                          api_name="forecast_radar_upload"),
            ):
                event.success(video_or_gif, RADAR_OUTPUTS[2], RADAR_OUTPUTS[1:3], api_visibility="private")


    dice.click(random_seed, outputs=seed, api_visibility="private")
    mnist_inputs = [seed, digits, mnist_horizon, model_key]
    upload_inputs = [upload, context, upload_horizon, model_key]
    for event in (
        mnist_button.click(forecast_moving_mnist, mnist_inputs, OUTPUTS, api_name="forecast_moving_mnist"),
        mnist_examples.load_input_event.then(forecast_moving_mnist, mnist_inputs, OUTPUTS, api_visibility="private"),
        upload_button.click(forecast_upload, upload_inputs, OUTPUTS, api_name="forecast_upload"),
        upload_examples.load_input_event.then(forecast_upload, upload_inputs, OUTPUTS, api_visibility="private"),
    ):
        event.success(video_or_gif, OUTPUTS[2], OUTPUTS[1:3], api_visibility="private")
    loading = load_button.click(load_other_model, [source, revision, model_key], [model_key, model_summary],
                                api_name="load_model")
    loading.success(model_settings, model_key, [mnist_horizon, context, upload_horizon], api_visibility="private")

demo.queue(default_concurrency_limit=CONCURRENCY)

if __name__ == "__main__":
    demo.launch(max_file_size=io.MAX_FILE_BYTES, allowed_paths=[str(EXAMPLES)])
