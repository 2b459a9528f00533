"""A forecast on the page: the panel of its outputs (notes, animation, scores, grid, plot, downloads)
and how a request's answer fills it. The app lays the panels out; the backend makes the answers."""

from __future__ import annotations

import functools
import inspect
import textwrap
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import pandas as pd

from ..core.checkpoint import CheckpointError
from ..core.values import RAIN
from ..scoring.compare import SCORING, lead_time_scores, scores_table
from ..scoring.verdict import how_to_read, verdict
from ..serve.pictures import scores_under_animation
from ..serve.requests import Shown


def answered(request, *args, progress) -> tuple:
    """A backend request's outputs (``show``), its errors as the message people see."""
    try:
        return show(request(*args, progress=lambda fraction, text: progress(fraction, desc=text)))
    except (ValueError, CheckpointError) as error:  # SequenceError is a ValueError
        raise gr.Error(str(error)) from None


def share_controls(prefix: str = "") -> tuple[gr.Textbox, gr.Button, gr.Textbox]:
    """The link that reproduces the forecast shown, unrendered (``forecast_panel`` puts them under the scores): the
    link's query, kept hidden (or why there is none); *Copy link*, which puts the page's address with it on the
    clipboard; and the box that shows it. Their element ids: ``prefix`` + share-query, copy-link, share-link."""
    query = gr.Textbox(visible="hidden", elem_id=f"{prefix}share-query", render=False)
    copy = gr.Button("Copy link", size="sm", scale=0, min_width=110, elem_id=f"{prefix}copy-link", render=False)
    shown = gr.Textbox(show_label=False, container=False, interactive=False, max_lines=4, scale=1,
                       placeholder="a link that reproduces this forecast", elem_id=f"{prefix}share-link", render=False)
    return query, copy, shown


def copy_on_click(copy: gr.Button, query: gr.Textbox, shown: gr.Textbox) -> None:
    """Copy link: the page's own address with the forecast's query, put on the clipboard and shown."""
    copy.click(None, query, shown, js=(Path(__file__).parent / "copy_link.js").read_text())


def to_controls(name: str) -> gr.Markdown:
    """On a phone, where the forecast comes first and the controls a few screens below it, a link down to them
    (the column ``name``-controls); hidden on wider screens, where they are beside it."""
    return gr.Markdown(f"[Change the forecast ↓](#{name}-controls)", elem_classes="phone-only",
                       elem_id=f"{name}-to-controls")


def example_buttons(examples: dict) -> dict:
    """Under "Examples (click to run)", a button per example, each with its picture: ``{key: (label, picture)}`` →
    ``{key: button}``."""
    gr.Markdown("Examples (click to run)", elem_classes="examples-title")
    with gr.Row(elem_classes="examples"):
        return {key: gr.Button(label, icon=str(picture), size="sm", variant="secondary", min_width=120)
                for key, (label, picture) in examples.items()}


def error_box() -> gr.Markdown:
    """Where the page says why it can't forecast an input: under the controls, until the next forecast."""
    return gr.Markdown(visible=False, elem_classes="input-error")


def told(message: str | None) -> gr.Markdown:
    """The error box saying ``message``, or hidden."""
    return gr.Markdown(f"**Can't forecast this:** {message}", visible=True) if message else gr.Markdown(visible=False)


def keeping_the_page(endpoint: Callable, on_page: Callable[[tuple, tuple], list], kept: int) -> Callable:
    """A page event's function: ``on_page(values, inputs)`` (what the page shows of the endpoint's answer), then
    the error box hidden; where the endpoint refuses its input (gr.Error), the ``kept`` outputs stay as they were
    (the last good forecast) and the error box says why, until the next forecast. The API and MCP call the
    endpoint itself, so that an error reaches them as an error. Gradio reads the endpoint's signature (through
    ``__wrapped__``) to pass the inputs and the progress bar."""
    @functools.wraps(endpoint)
    def event(*inputs):
        try:
            values = endpoint(*inputs)
        except gr.Error as error:
            return [*[gr.skip()] * kept, told(error.message)]
        return [*on_page(values, inputs), told(None)]
    event.__name__ = f"{endpoint.__name__}_on_page"  # a private event still takes its name from its function's
    return event


def returning(outputs: str):
    """An endpoint's docstring, completed with what it returns. Gradio reads an endpoint's docstring as its API
    and MCP description: the first paragraph, one line per parameter under Args: and the lines under Returns:."""
    def document(fn):
        fn.__doc__ = inspect.cleandoc(fn.__doc__) + "\n\nReturns:" + textwrap.indent(outputs, "    ").rstrip()
        return fn
    return document


def show(shown: Shown, notes: tuple[str, ...] = ()) -> tuple:
    """The outputs of every forecast, in the order of forecast_panel's (the verdict in plain words after the
    downloads); ``notes`` go before the comparison's.
    Rain also has its performance diagram, the locator map of a window of composites and the window's place."""
    comparison, files = shown.comparison, shown.files
    headers, rows, best = scores_table(comparison)
    digits = {h: "{:.1f}" if h.startswith("MSE/frame") else "{:.3f}" for h in headers[1:]}  # MSE/frame: ~100
    styles = pd.DataFrame(rows, columns=headers).style.format(digits, na_rep="n/a")
    for column, row in best.items():
        styles = styles.apply(lambda s, r=row: ["font-weight: bold; background-color: #d9f2d9" if i == r else ""
                                                for i in range(len(s))], subset=[column])
    is_video = files.animation.suffix == ".webm"
    return (
        "\n".join(f"- {n}" for n in [*notes, *comparison.notes]),
        str(files.animation) if is_video else None,
        None if is_video else str(files.animation),
        str(files.grid),
        str(files.narrow_grid),
        styles,
        pd.DataFrame(lead_time_scores(comparison), columns=["lead time", "method", comparison.scoring.plot[1]]),
        [str(p) for p in files.downloads],
        verdict(comparison),
    ) + ((_path(files.diagram), _path(files.locator), shown.place) if comparison.scale == RAIN else ())


def _path(path) -> str | None:
    return None if path is None else str(path)


def shown_on_page(values: tuple) -> list:
    """A forecast's outputs for the page (not the API): the player that fits the animation shown, and the plot's
    lines in colours named under it."""
    notes, video, gif, grid, narrow_grid, scores, plot, *rest = values
    return [notes, gr.Video(value=video, visible=gif is None), gr.Image(value=gif, visible=gif is not None), grid,
            narrow_grid, scores, named_colours(plot), *rest]


# Line colours, named: each method keeps its colour from forecast to forecast; others take the rest in turn.
COLOURS = {"blue": "#1f77b4", "orange": "#ff7f0e", "red": "#d62728", "gray": "#7f7f7f", "green": "#2ca02c",
           "purple": "#9467bd", "brown": "#8c564b", "pink": "#e377c2"}
METHOD_COLOURS = {"ConvLSTM": "blue", "ConvLSTM+advection": "orange", "optical flow": "red", "persistence": "gray",
                  "pysteps S-PROG": "green"}


def named_colours(plot: pd.DataFrame) -> gr.LinePlot:
    """The lead-time plot with its legend in words under it ("blue: ConvLSTM, ..."), which wraps on a phone, where
    the plot's own legend, a single row, is cut off after two or three methods."""
    methods = list(dict.fromkeys(plot["method"]))
    spare = iter([c for c in COLOURS if c not in {METHOD_COLOURS.get(m) for m in methods}])
    names = {m: METHOD_COLOURS.get(m) or next(spare, "gray") for m in methods}
    return gr.LinePlot(value=plot, color_map={m: COLOURS[c] for m, c in names.items()},
                       caption="Lines: " + ", ".join(f"{c}: {m}" for m, c in names.items()))


def forecast_panel(scale, name: str, under_scores: list | None = None) -> list:
    """The outputs of a forecast, laid out: notes, animation (video; a GIF for a colour scale or where no
    WebM encoder works) beside the scores (and the unrendered components ``under_scores``, in a row under them),
    the frame grid (wide, or narrow on a phone), the score by lead time beside the downloads and how to read the scores;
    the verdict in plain words under the notes, above everything else. A scale with
    more scores than fit beside the animation (radar's seven) has the plot beside the animation and
    the scores in a row of their own under it. Rain also has its performance diagram beside the downloads, a
    window of composites its locator map under the plot, and a gr.State of the window's place (``Place``).
    ``show`` fills the outputs in the order returned.
    ``name`` prefixes their element ids (``name-scores``, ...), for tests and page styles."""
    wide = scores_under_animation(scale)
    rain = scale == RAIN

    def scores_table():
        table = gr.Dataframe(label="Mean scores (best in bold)", interactive=False, elem_id=f"{name}-scores",
                             elem_classes="scores")
        if under_scores:
            with gr.Row(equal_height=True):
                for component in under_scores:
                    component.render()
        return table

    def lead_time_plot(**layout):
        scoring = SCORING[scale.name]
        title = scoring.plot[1]
        better = "higher" if any("↑" in h for h, key in scoring.table.items() if key == scoring.plot[0]) else "lower"
        return gr.LinePlot(x="lead time", y=title, color="method", label=f"{title} by lead time", colors_in_legend=[],
                           y_title=f"{title} ({better} is better)", elem_id=f"{name}-plot", **layout)

    notes = gr.Markdown(elem_id=f"{name}-notes")
    said = gr.Markdown(elem_id=f"{name}-verdict")
    with gr.Row():
        with gr.Column(scale=3, min_width=300):
            lead = "**+k min**: k minutes after the last input" if rain else "**+k**: k frames after it"
            gr.Markdown("**Animation:** the input, then each forecast beside the truth (persistence holds the "
                        f"last input); {lead}", elem_classes="caption")
            # No toolbars: on a phone they cover the last panel's title; the GIF is among the downloads.
            video = gr.Video(label="Animation", show_label=False, autoplay=True, loop=True, interactive=False,
                             buttons=[], elem_id=f"{name}-animation", elem_classes="natural-size")
            video_gif = gr.Image(label="Animation (GIF)", show_label=False, visible=False, interactive=False,
                                 buttons=[], elem_id=f"{name}-animation-gif", elem_classes="natural-size")
        with gr.Column(scale=2, min_width=280):
            plot, scores = (lead_time_plot(), None) if wide else (None, scores_table())
            if rain:
                locator = gr.Image(label="Where the window lies on the composite (white outline)", type="filepath",
                                   interactive=False, visible=False, buttons=["download"], elem_id=f"{name}-locator")
    if wide:
        scores = scores_table()
    # The wide grid where it fits (shrunk a little on a small laptop), the narrow one on a phone or tablet, where
    # the wide one would be shrunk past reading or scroll sideways away from its row labels (page.css); no toolbar
    # on the narrow one, which would cover its title.
    grid = gr.Image(label="Frames by lead time", show_label=False, type="filepath", interactive=False,
                    elem_id=f"{name}-grid", elem_classes="wide-grid")
    narrow_grid = gr.Image(label="Frames by lead time, one row per lead time", show_label=False, type="filepath",
                           interactive=False, buttons=[], elem_id=f"{name}-narrow-grid", elem_classes="narrow-grid")
    with gr.Row():
        if not wide:
            plot = lead_time_plot(scale=3)
        if rain:
            diagram = gr.Image(label="Performance diagram: up and right is better; on the dashed diagonal a "
                                     "forecast rains as much as the truth", type="filepath", interactive=False,
                               buttons=["download"], scale=1, elem_id=f"{name}-diagram")
        with gr.Column(scale=2):
            downloads = gr.File(label=f"Downloads: the side-by-side animation (GIF, to share); the ConvLSTM forecast "
                                      f"(.npy float32 frames, {scale.units}; animated GIF)",
                                file_count="multiple", interactive=False, elem_id=f"{name}-downloads",
                                elem_classes="downloads")
            with gr.Accordion("How to read the scores", open=False, elem_id=f"{name}-how-to-read"):
                gr.Markdown(how_to_read(scale))
    outputs = [notes, video, video_gif, grid, narrow_grid, scores, plot, downloads, said]
    return [*outputs, diagram, locator, gr.State()] if rain else outputs
