"""One function per request of the web app: the UI, the benchmarks and the tests all call these.

    app = Backend()                                  # nothing is loaded yet
    app.start()                                      # the models and the start-up forecast, once
    shown = app.moving_mnist(seed=7, digits=2, horizon=10)
    shown.comparison.scores, shown.files.animation   # the forecasts scored, and drawn into files

Each request checks what a person typed (a ValueError or CheckpointError whose message is for
them), makes the comparison and draws it into a scratch folder of its own. No gradio here.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..core.checkpoint import (
    ADVECTION_CHECKPOINT,
    OBJECTS_CHECKPOINT,
    RADAR_CHECKPOINT,
    CheckpointError,
    load_model,
)
from ..core.checks import whole_number
from ..core.model import EncoderForecaster
from ..core.values import GRAY, RAIN
from ..data import composites, familiar, mnist, rain, synthetic_radar, uploads
from ..data.composites import Place
from ..data.limits import SequenceError
from ..data.mnist import moving_mnist
from ..data.radar_windows import SIZE, Sample
from ..scoring.compare import MAX_HORIZON, Comparison, Progress, compare, no_progress
from ..viz.maps import locator_map
from .pictures import COMPARISON_GIF, Rendered, render, scratch_folder, thumbnail
from .registry import LoadedModel, ModelRegistry, headline_markdown

MAX_DIGITS = 3
MAX_SEED = 2**31 - 1
MAX_STEP_MINUTES = 60
MIN_INTENSITY, MAX_INTENSITY = 0.5, 2.0  # of a synthetic radar loop: light to heavy rain
COMPOSITES_KEPT = 2  # uploads of radar composites kept read, so that moving their window is quick
ADVECTION_NAME = "ConvLSTM+advection"  # the bundled advection model, shown beside every video forecast
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REAL_RADAR_EXAMPLE = EXAMPLES / "radar" / "fmi_2016-09-28.npz"
# Windows cut from real composites by scripts/make_examples.py, each with its locator map (NAME_locator.png): shown
# in this order, each forecast once at start-up.
RADAR_EXAMPLES = (EXAMPLES / "radar" / "opera_2024-11-26.npz", REAL_RADAR_EXAMPLE)
FIRST_SEED, FIRST_DIGITS = 2015, 2  # the Moving MNIST forecast a page without a link shows
MIN_FRAMES = 2  # an upload's: one frame shows no motion
# The first note of a forecast of frames unlike what its model learned from; it is still made.
UNLIKE = ("**Unlike what the model learned from** ({what}): {how}. The forecast is still made, but may be "
          "nonsense; persistence (the last frame held) is the fair comparison.")
UPLOAD_NO_LINK = f"An upload can't travel in a link: share {COMPARISON_GIF}, among the downloads, instead."


def enough_frames(frames: np.ndarray, what: str) -> None:
    """SequenceError for an upload with too few frames to see motion in."""
    if len(frames) < MIN_FRAMES:
        raise SequenceError(f"A forecast needs at least {MIN_FRAMES} frames, to see how things move; this upload "
                            f"has {len(frames)} (a still picture). Upload {what}.")


# The Moving MNIST examples: (seed, digits, horizon).
MOVING_MNIST_EXAMPLES = ((FIRST_SEED, FIRST_DIGITS, mnist.HORIZON), (7, 1, 10), (1506, 3, 10), (42, 2, 20))


def upload_examples() -> list[Path]:
    """The example files the video tab offers to upload: a GIF, a video and a ZIP of pictures."""
    return sorted(p for p in EXAMPLES.glob("*") if p.is_file())


@functools.cache
def _thumbnails() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="convlstm-thumbnails-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def moving_mnist_thumbnail(seed: int, digits: int) -> Path:
    """A Moving MNIST example's picture: its last input frame."""
    frame = moving_mnist_sequence(seed, digits, mnist.CONTEXT)[-1]
    return thumbnail(frame, GRAY, _thumbnails() / f"moving_mnist_{seed}_{digits}.png")


def upload_thumbnail(path: Path) -> Path:
    """An example file's picture: its last input frame (of the bundled model's ten)."""
    frames = uploads.read_sequence(path)
    return thumbnail(frames[min(mnist.CONTEXT, len(frames)) - 1], GRAY, _thumbnails() / f"{path.name}.png")


def radar_thumbnail(path: Path) -> Path:
    """A real radar example's picture: its last input frame, in the radar's colours."""
    sample, _, _ = composites.load_window(path)
    frame = sample.frames[synthetic_radar.CONTEXT - 1]  # mm/h, 0 outside coverage
    return thumbnail(frame, RAIN, _thumbnails() / f"{path.stem}.png")


def radar_example_titles() -> list[str]:
    """The real radar examples' titles, in ``RADAR_EXAMPLES``' order: the keys of ``Backend.radar_examples``."""
    return [composites.load_window(path)[2] for path in RADAR_EXAMPLES]


@dataclass(frozen=True)
class Shown:
    """A request's answer: the comparison (forecasts, truth, scores, notes) and its files; for a window of radar
    composites, its place (where on the composite, when, whose data) too."""
    comparison: Comparison
    files: Rendered
    place: Place | None = None


def moving_mnist_sequence(seed: int, digits: int, frames: int) -> np.ndarray:
    """One test-split Moving MNIST sequence, (frames, 64, 64) in [0, 1], fully determined by seed and digits."""
    seed = whole_number("The seed", seed, 0, MAX_SEED)
    digits = whole_number("The number of digits", digits, 1, MAX_DIGITS)
    return moving_mnist(1, seed=seed, num_digits=digits, frames=frames)[0]


class Backend:
    """The models an app serves and its requests. Models load on first use (or at ``start``), once,
    and are shared by every session; a session keeps only its model's registry key."""

    def __init__(self, model: str | None = None, revision: str | None = None, *, hub_only: bool = False):
        """``model``: the app's video model, a Hub repo id or folder; by default the bundled objects model, whose
        digits stay digits to +10 (the paper's pixel model, ``checkpoints/moving-mnist``, draws grey blobs by +3)."""
        self.source = str(OBJECTS_CHECKPOINT) if model is None else model
        self.revision, self.hub_only = revision, hub_only
        self.models = ModelRegistry()
        self._beside = ModelRegistry()  # of its own, so it is never let go to make room for visitors' models
        self._once = threading.Lock()
        self._radar: EncoderForecaster | None = None
        self._first_view: Shown | None = None
        self._examples_once = threading.Lock()  # of its own: making the examples loads the radar model under _once
        self._radar_examples: dict[str, Shown] | None = None
        # The composites last read, by their files: moving the window over them needs no second reading (5 s for
        # OPERA's hour). Two at most, 0.2 GB each for an OPERA hour on its 2×2 grid.
        self._composites: OrderedDict[tuple, composites.Composite] = OrderedDict()
        self._composites_lock = threading.Lock()

    def start(self) -> None:
        """Load every model and make the start-up forecasts now (CheckpointError if a model can't be had)."""
        self.default, self.beside, self.radar, self.first_view, self.radar_examples  # noqa: B018 (loading is the point)

    @property
    def default(self) -> LoadedModel:
        """The app's own video model (the first the registry loads is kept for good)."""
        return self.models.default or self.models.load(self.source, self.revision)

    @property
    def beside(self) -> LoadedModel:
        return self._beside.default or self._beside.load(str(ADVECTION_CHECKPOINT))

    @property
    def radar(self) -> EncoderForecaster:
        with self._once:
            if self._radar is None:
                self._radar = load_model(RADAR_CHECKPOINT)
        return self._radar

    @property
    def first_view(self) -> Shown:
        """The forecast every page without a link starts with: made once, into a folder that lasts as
        long as the app (request folders are removed after an hour)."""
        with self._once:
            if self._first_view is None:
                folder = tempfile.mkdtemp(prefix="convlstm-first-view-")
                atexit.register(shutil.rmtree, folder, ignore_errors=True)
                model = self.default.model
                frames = moving_mnist_sequence(FIRST_SEED, FIRST_DIGITS, model.context_frames + model.horizon)
                self._first_view = self._video(self.default, frames, model.horizon, folder=folder)
        return self._first_view

    @property
    def radar_examples(self) -> dict[str, Shown]:
        """The real radar examples by title (``RADAR_EXAMPLES``), each forecast once, as ``radar_composites`` would
        answer for its window, into folders that last as long as the app."""
        with self._examples_once:
            if self._radar_examples is None:
                folder = tempfile.mkdtemp(prefix="convlstm-radar-examples-")
                atexit.register(shutil.rmtree, folder, ignore_errors=True)
                shown = {}
                for path in RADAR_EXAMPLES:
                    window, place, title = composites.load_window(path)
                    locator = np.asarray(Image.open(path.with_name(f"{path.stem}_locator.png")).convert("RGB"))
                    note = (f"{title}: a window that `python -m scripts.make_examples` cut from the composites as "
                            "their publisher made them (the map shows where).")
                    shown[title] = self._placed(window, place, [note], locator, folder=tempfile.mkdtemp(dir=folder))
                self._radar_examples = shown
        return self._radar_examples

    def session_model(self, model_key: str | None) -> LoadedModel:
        """The model a session chose (its registry key; None: the app's own)."""
        self.default  # noqa: B018 (the registry's first model is the app's own)
        return self.models.get(model_key)

    def others(self, loaded: LoadedModel) -> dict[str, EncoderForecaster]:
        """The models shown beside a video forecast's ConvLSTM: the advection one, unless it is that one."""
        return {} if loaded.info["source"] == self.beside.info["source"] else {ADVECTION_NAME: self.beside.model}

    # --- the requests -------------------------------------------------------------------------

    def moving_mnist(self, seed, digits, horizon, model_key: str | None = None,
                     progress: Progress = no_progress) -> Shown:
        loaded = self.session_model(model_key)
        horizon = whole_number("The horizon", horizon, 1, MAX_HORIZON)
        frames = moving_mnist_sequence(seed, digits, loaded.model.context_frames + horizon)
        return self._video(loaded, frames, horizon, progress=progress)

    def upload(self, files, context, horizon, model_key: str | None = None,
               progress: Progress = no_progress) -> Shown:
        """An uploaded sequence, forecast; where a model that learned Moving MNIST (its card has its test scores)
        meets frames unlike it, the first note says how, and that the forecast may be nonsense."""
        progress(0.0, "reading the upload")
        upload = uploads.load_sequence(files or [])
        enough_frames(upload.frames, "an animation, a video, several pictures or a ZIP of them")
        loaded = self.session_model(model_key)
        unlike = familiar.unlike_moving_mnist(upload.frames) if loaded.info.get("tests") else None
        notes = [*([UNLIKE.format(what="Moving MNIST, white handwritten digits moving on black", how=unlike)]
                   if unlike else []), *upload.notes]
        return self._video(loaded, upload.frames, horizon, context=context, notes=notes, progress=progress)

    def synthetic_radar(self, seed, intensity, motion, progress: Progress = no_progress) -> Shown:
        seed = whole_number("The seed", seed, 0, MAX_SEED)
        try:
            intensity = float(intensity)
        except (TypeError, ValueError):
            intensity = float("nan")
        if not MIN_INTENSITY <= intensity <= MAX_INTENSITY:
            raise ValueError(f"The intensity must be a number from {MIN_INTENSITY} (light rain) to {MAX_INTENSITY} "
                             "(heavy).")
        frames = synthetic_radar.radar(1, seed=seed, intensity=intensity, motion=motion,
                                       frames=self.radar.context_frames + self.radar.horizon)[0]
        return self._show(self.radar, frames, progress=progress)

    def radar_upload(self, file, units, step_minutes, progress: Progress = no_progress) -> Shown:
        if not file:
            raise ValueError("Choose a radar file to upload first.")
        upload = uploads.load_sequence(file, raw=True)
        enough_frames(upload.frames, "a loop of several radar pictures")
        rates = rain.rain_from_upload(upload.frames, units, from_pixels=upload.from_pixels, name=Path(file).name)
        step = whole_number("The minutes between frames", step_minutes, 1, MAX_STEP_MINUTES)
        unlike = familiar.unlike_rain(rates[:self.radar.context_frames])
        notes = [*([UNLIKE.format(what="rain as radar sees it", how=unlike)] if unlike else []), *upload.notes]
        return self._show(self.radar, rates, notes=notes, step_minutes=step, progress=progress)

    def radar_composites(self, files, window: tuple[int, int] | None = None,
                         progress: Progress = no_progress) -> Shown:
        """Radar composites as weather services publish them (``convlstm.data.composites``: ODIM HDF5, KNMI HDF5,
        FMI PGM; several files or a ZIP of them) → the forecast of one 100×100 window of them: the wettest
        well-covered one, or the one whose top-left corner ``window`` (row, column of the composite's grid, as
        ``Shown.place`` gives it) puts it at. The ConvLSTM beside optical flow and S-PROG (with pysteps), scored
        on the frames after the input; lead times as clock times; where the window lies (the locator map) and
        whose data it is (notes, and under the pictures)."""
        if not files:
            raise ValueError("Choose radar composite files, or a ZIP of them, to upload first.")
        progress(0.0, "reading the composites")
        composite = self._read_composites(files)
        progress(0.3, "choosing the window")
        sample, notes = composites.choose_window(composite, window)
        now = np.where(composite.covered, composite.rain[composite.context - 1], np.nan)  # as the window's mask says
        locator = locator_map(now, sample.top, sample.left, SIZE)
        return self._placed(sample, composite.place(sample), [*composite.notes, *notes], locator, progress=progress)

    def load_model(self, source: str, revision: str | None = None, model_key: str | None = None) -> LoadedModel:
        """Another video model for a session: a Hub repo id, or (unless hub_only) a folder of the server's.
        The errors say which model the session keeps."""
        if not (source or "").strip():
            raise ValueError("Type a Hub repo id such as ORG/NAME, or the path of a checkpoint folder.")
        kept = self.session_model(model_key).info["source"]
        try:
            loaded = self.models.load_from_hub(source.strip(), revision) if self.hub_only \
                else self.models.load(source, revision)
            return self._video_model(loaded, source.strip())
        except (ValueError, CheckpointError) as error:
            raise CheckpointError(f"{error}. Still using {kept}.") from None

    def link_model(self, source: str | None, revision: str | None) -> LoadedModel:
        """The Hub model a link names (never a folder of the server's), or the app's model."""
        if not source:
            return self.default
        return self._video_model(self.models.load_from_hub(source, revision), source)

    def radar_headline(self) -> str:
        """The radar tab's model line."""
        model = self.radar
        kind = "a ConvLSTM that moves the rain along the motion it predicts" if model.forecast_head == "advection" \
            else "the paper's ConvLSTM"
        matched = ", its rain rates matched to the last frame's as S-PROG does" if model.probability_matching else ""
        return (f"Rain radar, as in the paper: {model.context_frames} frames in, {model.horizon} out, with the "
                f"bundled `checkpoints/radar` model ({kind}{matched}, {model.num_parameters():,} parameters, trained "
                "on synthetic radar on a CPU; its model card compares it with optical flow and pysteps on real radar).")

    def headline(self, model_key: str | None) -> str:
        """The video tab's model line: the session's model, and the one beside it."""
        loaded = self.session_model(model_key)
        return headline_markdown(loaded.info, (ADVECTION_NAME, self.beside.info) if self.others(loaded) else None)

    # --- how every request is made ------------------------------------------------------------

    def _video(self, loaded: LoadedModel, frames: np.ndarray, horizon, *, context=None, notes=(),
               progress: Progress = no_progress, folder: str | None = None) -> Shown:
        return self._show(loaded.model, frames, horizon=horizon, context=context, notes=notes,
                          others=self.others(loaded), progress=progress, folder=folder)

    @staticmethod
    def _show(model: EncoderForecaster, frames: np.ndarray, *, horizon=None, context=None, notes=(),
              step_minutes: float | None = None, others=None, progress: Progress = no_progress,
              folder: str | None = None) -> Shown:
        comparison = compare(model, frames, context=context if context is not None else model.context_frames,
                             horizon=horizon if horizon is not None else model.horizon, others=others,
                             step_minutes=step_minutes, progress=progress)
        comparison.notes[:0] = notes
        return Shown(comparison, render(comparison, folder or scratch_folder(), progress=progress))

    def _read_composites(self, files) -> composites.Composite:
        """``composites.read(files)``, or the same files' composite read before (same paths, sizes and times)."""
        paths = [files] if isinstance(files, str | os.PathLike) else list(files)
        try:
            key = tuple(sorted((str(p), os.stat(p).st_size, os.stat(p).st_mtime_ns) for p in paths))
        except (OSError, TypeError, ValueError):
            return composites.read(files)  # the reader says what is wrong with them
        with self._composites_lock:
            if key in self._composites:
                self._composites.move_to_end(key)
                return self._composites[key]
        composite = composites.read(files)
        with self._composites_lock:
            self._composites[key] = composite
            while len(self._composites) > COMPOSITES_KEPT:
                self._composites.popitem(last=False)
        return composite

    def _placed(self, window: Sample, place: Place, notes: list[str], locator: np.ndarray, *,
                progress: Progress = no_progress, folder: str | None = None) -> Shown:
        """The forecast of a window of radar composites, with S-PROG and the ConvLSTM at its rain amounts, placed."""
        model = self.radar
        comparison = compare(model, window.frames, context=model.context_frames, horizon=model.horizon,
                             step_minutes=place.step_minutes, now=place.now, covered=window.mask,
                             credit=place.credit, with_reference=True, progress=progress)
        comparison.notes[:0] = [*notes, f"{place.credit}."]
        files = render(comparison, folder or scratch_folder(), locator=locator, progress=progress)
        return Shown(comparison, files, place)

    @staticmethod
    def _video_model(loaded: LoadedModel, source: str) -> LoadedModel:
        if loaded.model.scale != GRAY:
            raise CheckpointError(f"{source} forecasts {loaded.model.scale.units}, not gray video frames; the radar "
                                  "tab serves the radar model")
        return loaded

