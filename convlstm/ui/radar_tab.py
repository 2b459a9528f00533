"""The radar tab: real radar examples to click, radar composites or a radar loop to upload, a synthetic loop
to generate; each nowcast beside optical flow and persistence (and S-PROG where pysteps is installed), placed in
time and, for composites, on the map, with a window a person can move. The forecasts are also API and MCP
endpoints, whose docstrings are their descriptions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from ..core.values import RAIN
from ..data import limits, rain, synthetic_radar
from ..data.composites import Place
from ..data.radar_windows import SIZE
from ..serve.links import EXAMPLE_NAMES, example_query, radar_query, read_radar_link
from ..serve.requests import (
    MAX_INTENSITY,
    MAX_SEED,
    MAX_STEP_MINUTES,
    MIN_INTENSITY,
    RADAR_EXAMPLES,
    UPLOAD_NO_LINK,
    Backend,
    radar_example_titles,
    radar_thumbnail,
)
from .panels import (
    answered,
    copy_on_click,
    error_box,
    forecast_panel,
    keeping_the_page,
    returning,
    share_controls,
    show,
    shown_on_page,
    to_controls,
    told,
)

RETURNS = """
notes (markdown); None (radar animations are GIFs, which keep the colour scale exact)
the animation as a GIF (input, then each method beside the truth); the lead-time grid (PNG)
the same grid one row per lead time, to fit a phone (PNG)
the mean skill scores per method (CSI, POD, FAR, frequency bias, FSS, MSE, correlation; best in bold); CSI by lead time
downloads: forecast_comparison.gif (the side-by-side animation), the ConvLSTM forecast (mm/h) as .npy and GIF
the verdict in plain words (markdown): which forecast places rain best, which raises fewest false alarms, how far ahead
the performance diagram (PNG: POD against success ratio, with CSI and frequency-bias lines)
for radar composites, the locator map (PNG: the composite's rain at the last input time, the window outlined), else None
"""
INTRO = ("Nowcast rain up to 90 minutes ahead from the radar pictures weather services publish: click a real "
         "example, upload your own radar composites, or generate a synthetic loop. The forecasts are scored against "
         "what the radar saw next (*How to read the scores*, under the pictures, says how).")


def window_controls(place: Place | None, movable: bool) -> tuple:
    """The window's controls, at its corner, where there are composite files to move it over (not for an example:
    a window saved without its composite)."""
    if place is None or not movable:
        return gr.Column(visible=False), gr.skip(), gr.skip()
    rows, columns = (side - place.size for side in place.grid)
    return (gr.Column(visible=True), gr.Number(place.top, info=f"0 (top) to {rows}"),
            gr.Number(place.left, info=f"0 (left) to {columns}"))


@dataclass
class RadarTab:
    first_view: Callable[[gr.Request], list]  # what the page load shows (the page's tabs first, then...
    shown_on_load: list  # ...these): the model's line, the first real example or a radar link's forecast


def radar_tab(backend: Backend, gpu: Callable) -> RadarTab:
    """The tab, its events and its endpoints; ``gpu`` decorates the forecasts (ZeroGPU's spaces.GPU on a Space)."""

    @gpu
    @returning(RETURNS)
    def forecast_radar_composites(files: list[str], progress=gr.Progress()) -> tuple:  # noqa: B008
        """Nowcast radar composites as weather services publish them: ODIM HDF5 (EUMETNET OPERA and most
        national services), KNMI HDF5 or FMI PGM, several files or a ZIP of them. The frames are put in the order
        of their own times; the wettest 100x100 window (after averaging the grid so that rain moves about 2 pixels
        a frame) is forecast by the radar ConvLSTM, 5 frames in and up to 15 out, beside optical flow, persistence
        and pysteps S-PROG (where installed), with UTC valid times, a locator map and the data's credit.

        Args:
            files: the composite files, or a ZIP of them (HDF5 files need requirements-radar.txt on the server)

        """
        return answered(backend.radar_composites, files, progress=progress)

    @gpu
    @returning(RETURNS)
    def move_radar_window(files: list[str], row: int, column: int, progress=gr.Progress()) -> tuple:  # noqa: B008
        """Nowcast another 100x100 window of the same radar composites as forecast_radar_composites.

        Args:
            files: the composite files, or a ZIP of them
            row: the window's top row on the composite's grid (as forecast_radar_composites' notes give it)
            column: the window's left column on that grid

        """
        return answered(backend.radar_composites, files, (row, column), progress=progress)

    @gpu
    @returning(RETURNS)
    def forecast_radar_upload(file: str, units: str, step_minutes: float = 6,
                              progress=gr.Progress()) -> tuple:  # noqa: B008
        """Nowcast your own rain-radar loop with the radar ConvLSTM (its first 5 frames in, 15 out) beside
        optical flow and persistence, scored against the frames that follow.

        Args:
            file: .npy/.npz of rain rates (mm/h) or reflectivity (dBZ), or gray pictures/GIF (0-255 = 0-60 dBZ)
            units: the units of .npy/.npz values: mm/h or dBZ
            step_minutes: minutes between frames, for the lead times shown (the model steps one frame at a time)

        """
        return answered(backend.radar_upload, file, units, step_minutes, progress=progress)

    @gpu
    @returning(RETURNS)
    def forecast_radar(seed: int, intensity: float, motion: str, progress=gr.Progress()) -> tuple:  # noqa: B008
        """Nowcast a synthetic rain-radar loop with the radar ConvLSTM (5 frames 6 minutes apart in, 15 out,
        up to 90 minutes ahead) beside optical flow and persistence, scored with CSI, POD, FAR and FSS at
        0.5 mm/h, rain-rate MSE and correlation. Downloads hold rain rates in mm/h.

        Args:
            seed: which radar loop, a whole number from 0 to 2147483647; the same seed gives the same loop
            intensity: how heavy the rain is, 0.5 (light) to 2.0 (heavy); 1 is moderate
            motion: how the rain moves: translation, rotation, deformation or mixed

        """
        return answered(backend.synthetic_radar, seed, intensity, motion, progress=progress)

    examples = radar_example_titles()  # forecast once, when first shown; a click shows one at once

    with gr.Tab("Radar nowcast", id="radar", elem_id="radar-tab"):
        model_line = gr.Markdown(elem_id="radar-model-line")
        gr.Markdown(INTRO)
        with gr.Row(elem_id="radar-layout"):
            with gr.Column(scale=1, min_width=300, elem_id="radar-controls"):
                gr.Markdown("**Real radar, one click:**")
                example_buttons = {title: gr.Button(f"▶ {title}", icon=str(radar_thumbnail(path)), size="sm",
                                                    variant="secondary", elem_classes="example")
                                   for title, path in zip(examples, RADAR_EXAMPLES, strict=True)}
                with gr.Tabs() as sources:
                    with gr.Tab("Composites", id="composites"):
                        gr.Markdown(f"Upload {limits.COMPOSITES_SUPPORTED}: at least two frames 5–15 minutes "
                                    f"apart; up to {limits.MAX_UPLOAD_BYTES // limits.MB} MB. The wettest "
                                    f"{SIZE}×{SIZE} window is forecast; move it after.")
                        composite_files = gr.File(label="Radar composites", file_count="multiple",
                                                  elem_id="composites")
                        composites_button = gr.Button("Forecast the composites", variant="primary")
                        with gr.Column(visible=False, elem_id="radar-window") as window_row:
                            # Numbers, not sliders: an API call's are checked against the page's first bounds.
                            with gr.Row(equal_height=True):
                                row = gr.Number(0, label="Window's top row", precision=0, minimum=0,
                                                elem_id="window-row")
                                column = gr.Number(0, label="Window's left column", precision=0, minimum=0,
                                                   elem_id="window-column")
                            move_button = gr.Button("Forecast this window")
                    with gr.Tab("A loop", id="loop"):
                        gr.Markdown("`.npy`/`.npz` of rain rates in mm/h or reflectivity in dBZ (say which), or "
                                    "gray pictures/GIF where pixel 0–255 means 0–60 dBZ.")
                        loop_file = gr.File(label="A radar loop", file_count="single", elem_id="radar-upload")
                        units = gr.Radio(list(rain.UPLOAD_UNITS), value="mm/h", label="Units of .npy/.npz values")
                        step_minutes = gr.Number(value=synthetic_radar.STEP_MINUTES, label="Minutes between frames",
                                                 precision=0, minimum=1, maximum=MAX_STEP_MINUTES)
                        loop_button = gr.Button("Forecast the loop", variant="primary")
                    with gr.Tab("Synthetic", id="synthetic"):
                        seed = gr.Number(value=4, label="Seed", precision=0, minimum=0, maximum=MAX_SEED,
                                         elem_id="radar-seed")
                        intensity = gr.Slider(MIN_INTENSITY, MAX_INTENSITY, value=1.0, step=0.25, label="Intensity",
                                              info="0.5 light, 1 moderate, 2 heavy rain")
                        motion = gr.Dropdown(list(synthetic_radar.MOTIONS), value="mixed", label="Motion")
                        synthetic_button = gr.Button("Generate and forecast", variant="primary")
                error = error_box()
            with gr.Column(scale=3):
                to_controls("radar")
                link_query, copy_link, link_box = share_controls("radar-")  # under the scores
                outputs = forecast_panel(RAIN, "radar", [link_query, copy_link, link_box])
        api_only = gr.Button(visible=False)

    def on_page(movable: bool, link: Callable[[tuple], str]):
        def shown(values: tuple, inputs: tuple = ()) -> list:
            *panel, locator_path, place = shown_on_page(values)
            return [*panel, gr.Image(value=locator_path, visible=place is not None), place,
                    *window_controls(place, movable), link(inputs), ""]  # the link box is cleared until asked
        return shown

    def no_link(inputs) -> str:
        return UPLOAD_NO_LINK

    # The page's events keep the page on bad input; API and MCP calls reach the endpoints through a button the page
    # never shows, and get their errors as errors.
    page_outputs = [*outputs, window_row, row, column, link_query, link_box, error]
    for trigger, endpoint, inputs, movable, link in (
        (composites_button, forecast_radar_composites, [composite_files], True, no_link),
        (move_button, move_radar_window, [composite_files, row, column], True, no_link),
        (loop_button, forecast_radar_upload, [loop_file, units, step_minutes], False, no_link),
        (synthetic_button, forecast_radar, [seed, intensity, motion], False, lambda inputs: radar_query(*inputs[:3])),
    ):
        api_only.click(endpoint, inputs, outputs, api_name=endpoint.__name__)
        trigger.click(keeping_the_page(endpoint, on_page(movable, link), len(page_outputs) - 1), inputs, page_outputs,
                      api_visibility="private")

    def real_example(title: str) -> list:
        name = EXAMPLE_NAMES[examples.index(title)]
        return [*on_page(False, lambda inputs: example_query(name))(show(backend.radar_examples[title])), told(None)]

    for title, button in example_buttons.items():
        button.click(lambda t=title: real_example(t), None, page_outputs, api_visibility="private")
    copy_on_click(copy_link, link_query, link_box)

    def first_view(request: gr.Request) -> list:
        """The model's line and the first real example; for a radar link, the radar tab opened on its forecast
        (a bad link: the first example, and why)."""
        try:
            link = read_radar_link(request.query_params)
        except ValueError as error:
            gr.Warning(str(error))
            link = None
        if link is None or "example" in link:
            title = examples[EXAMPLE_NAMES.index(link["example"])] if link else examples[0]
            return [gr.Tabs(selected="radar") if link else gr.skip(), backend.radar_headline(), *real_example(title),
                    *[gr.skip()] * 4]
        inputs = (link["seed"], link["intensity"], link["motion"])
        shown = on_page(False, lambda inputs: radar_query(*inputs))
        return [gr.Tabs(selected="radar"), backend.radar_headline(), *shown(show(backend.synthetic_radar(*inputs)),
                                                                            inputs), told(None),
                gr.Tabs(selected="synthetic"), *inputs]

    return RadarTab(first_view, [model_line, *page_outputs, sources, seed, intensity, motion])
