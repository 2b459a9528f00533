"""The app as users and API clients meet it: `python app.py` in a subprocess, driven by gradio_client."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convlstm import EncoderForecaster
from convlstm.viz import render
from tests.helpers import composites_zip

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
PORTS = range(7861, 7870)
NOTES, VIDEO, GIF, GRID, NARROW_GRID, SCORES, PLOT, DOWNLOADS = range(8)  # the outputs of every forecast endpoint
VERDICT = 8
DIAGRAM, LOCATOR = 9, 10  # and of the radar ones
VIDEO_METHODS = ("ConvLSTM", "ConvLSTM+advection", "optical flow", "persistence")  # the video tabs
ONE_MODEL = ("ConvLSTM", "optical flow", "persistence")  # the radar tab; a session on the advection model


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class App:
    """`python app.py ARGS` on a free port; stopped (and waited for) on exit."""

    def __init__(self, tmp: Path, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = tmp / f"app-{self.port}.log"
        environment = os.environ | {"GRADIO_SERVER_PORT": str(self.port), "GRADIO_ANALYTICS_ENABLED": "False",
                                    "HF_HUB_OFFLINE": "1", "TMPDIR": str(tmp)} | (env or {})
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([sys.executable, "app.py", *args], cwd=ROOT, env=environment,
                                            stdout=log, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 120) -> "App":
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"app.py exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"app.py did not answer in {timeout} s:\n{self.log.read_text()}")

    def client(self, tmp: Path) -> Client:
        return Client(self.url, verbose=False, download_files=str(tmp))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    running = App(tmp)
    try:
        yield running.wait()
    finally:
        running.stop()


@pytest.fixture
def client(app, tmp_path):
    return app.client(tmp_path)


def checkpoint(folder: Path, **config) -> Path:
    EncoderForecaster(**({"hidden_channels": [8], "kernel_size": 3} | config)).save_pretrained(folder)
    return folder


def check_forecast(result, horizon: int, shape: tuple[int, int], scored: bool = True, pages: int | None = None,
                   methods: tuple[str, ...] = VIDEO_METHODS) -> None:
    """Every forecast endpoint's outputs; ``pages``: the frames of the side-by-side animation (context + horizon)."""
    animation = result[VIDEO] or result[GIF]
    assert animation and Path(animation).stat().st_size > 0
    assert Image.open(result[GRID]).format == "PNG"
    files = {Path(p).name: p for p in result[DOWNLOADS]}
    assert list(files) == ["forecast_comparison.gif", "convlstm_forecast.npy", "convlstm_forecast.gif"]
    forecast = np.load(files["convlstm_forecast.npy"])
    assert forecast.shape == (horizon, *shape) and forecast.dtype == np.float32
    assert Image.open(files["convlstm_forecast.gif"]).format == "GIF"
    shared = Image.open(files["forecast_comparison.gif"])  # the side-by-side animation, to send to people
    assert shared.format == "GIF" and shared.info.get("loop") == 0
    assert Path(files["forecast_comparison.gif"]).stat().st_size < 600_000  # small enough for a chat message
    if pages is not None:
        assert shared.n_frames == pages
    rows = result[SCORES]["data"]
    assert [r[0] for r in rows] == (list(methods) if scored else [])


def test_forecast_moving_mnist(client):
    result = client.predict(7, 2, 12, api_name="/forecast_moving_mnist")
    check_forecast(result, 12, (64, 64), pages=10 + 12)
    trained = json.loads((ROOT / "checkpoints" / "moving-mnist" / "config.json").read_text())["horizon"]
    assert ("extrapolation" in result[NOTES]) == (12 > trained)
    styling = result[SCORES]["metadata"]["styling"]
    assert sum("bold" in cell for row in styling for cell in row) == 2  # best MSE and best SSIM
    assert len(result[PLOT]["data"]) == 4 * 12  # four methods × twelve lead times
    again = client.predict(7, 2, 12, api_name="/forecast_moving_mnist")
    np.testing.assert_array_equal(*(np.load(next(p for p in r[DOWNLOADS] if p.endswith(".npy")))
                                    for r in (result, again)))  # same seed, same forecast


def _npz(path, frames):
    np.savez(path, frames=frames)
    return [path]


def _pngs(folder, frames):
    folder.mkdir()
    return [render.save_png(frame, folder / f"f{t}.png") for t, frame in enumerate(frames)]


UPLOADS = {
    "gif": lambda tmp, f: [ROOT / "examples" / "moving_mnist_2digits.gif"],
    "mp4": lambda tmp, f: [ROOT / "examples" / "moving_mnist_3digits.mp4"],
    "zip of pngs": lambda tmp, f: [ROOT / "examples" / "moving_mnist_frames.zip"],
    "npy": lambda tmp, f: [np.save(tmp / "frames.npy", f) or tmp / "frames.npy"],
    "npz": lambda tmp, f: _npz(tmp / "frames.npz", f),
    "several pngs": lambda tmp, f: _pngs(tmp / "pngs", f),
}


@pytest.mark.parametrize("kind", UPLOADS)
def test_forecast_upload_formats(client, tmp_path, kind):
    frames = np.random.default_rng(0).random((14, 40, 52)).astype(np.float32)
    paths = UPLOADS[kind](tmp_path, frames)
    shape = (64, 64) if kind in ("gif", "mp4", "zip of pngs") else (40, 52)
    result = client.predict([handle_file(str(p)) for p in paths], 10, 4, api_name="/forecast_upload")
    check_forecast(result, 4, shape, pages=10 + 4)


def test_upload_without_truth_is_forecast_alone(client, tmp_path):
    np.save(tmp_path / "short.npy", np.zeros((5, 32, 32), np.float32))
    result = client.predict([handle_file(str(tmp_path / "short.npy"))], 10, 3, api_name="/forecast_upload")
    check_forecast(result, 3, (32, 32), scored=False)
    assert "no ground truth" in result[NOTES]


def test_bad_file_message_reaches_the_client(client, tmp_path):
    bad = tmp_path / "holiday.gif"
    bad.write_text("this is text, not a picture")
    with pytest.raises(AppError, match=r"holiday\.gif: this is not a picture that can be read"):
        client.predict([handle_file(str(bad))], 10, 4, api_name="/forecast_upload")
    zipped = tmp_path / "notes.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(AppError, match="notes.zip"):
        client.predict([handle_file(str(zipped))], 10, 4, api_name="/forecast_upload")


def test_upload_size_is_limited(client, tmp_path):
    big = tmp_path / "big.npy"
    with open(big, "wb") as file:
        file.truncate(51 * 1024 * 1024)  # over the 50 MB limit
    with pytest.raises(ValueError, match="exceeds the maximum file size"):  # the app tells the client its limit
        client.predict([handle_file(str(big))], 10, 4, api_name="/forecast_upload")


def test_forecast_radar_generated_and_uploaded(client, tmp_path):
    result = client.predict(3, 1.5, "rotation", api_name="/forecast_radar")
    check_forecast(result, 15, (100, 100), pages=5 + 15, methods=ONE_MODEL)  # as every forecast endpoint
    assert result[SCORES]["headers"][:4] == ["method", "CSI ↑", "POD ↑", "FAR ↓"]
    plot = result[PLOT]["data"]
    assert len(plot) == 3 * 15 and plot[0][0] == 6  # CSI by lead time in minutes
    forecast = np.load(next(p for p in result[DOWNLOADS] if p.endswith(".npy")))
    assert forecast.max() > 1  # the download holds rain rates in mm/h

    dbz = np.full((20, 50, 60), -np.inf, np.float32)  # dry, with one 40 dBZ echo drifting east
    for t in range(20):
        dbz[t, 20:30, 5 + t:15 + t] = 40
    np.save(tmp_path / "echo.npy", dbz)
    upload = client.predict(handle_file(tmp_path / "echo.npy"), "dBZ", api_name="/forecast_radar_upload")
    check_forecast(upload, 15, (50, 60), pages=5 + 15, methods=ONE_MODEL)
    assert Image.open(upload[GRID]).size[0] > 60  # the frames, drawn with the legend


def test_the_real_radar_example_with_its_own_time_step(client):
    real = handle_file(str(ROOT / "examples" / "radar" / "fmi_2016-09-28.npz"))
    result = client.predict(real, "mm/h", 5, api_name="/forecast_radar_upload")
    check_forecast(result, 15, (100, 100), pages=5 + 15, methods=ONE_MODEL)
    assert [row[0] for row in result[PLOT]["data"][:15]] == [5 * k for k in range(1, 16)]  # 5-minute frames
    csi = {row[0]: row[1] for row in result[SCORES]["data"]}
    assert all(0 < value <= 1 for value in csi.values())  # rain to score at every lead time
    assert result[VIDEO] is None  # a colour scale's animation is the GIF...
    assert Image.open(result[GIF]).width == 3 * 200 + 2 * render.GAP  # ...its 100-px windows enlarged 2×
    with pytest.raises(AppError, match="less than minimum value 1"):  # gradio checks the number first
        client.predict(real, "mm/h", 0, api_name="/forecast_radar_upload")


def test_radar_composites_as_a_zip_then_another_window(client, tmp_path):
    pytest.importorskip("h5py", reason="h5py (requirements-radar.txt) reads ODIM composites")
    pytest.importorskip("pysteps", reason="pysteps (requirements-radar.txt) makes S-PROG")
    archive, paths = composites_zip(tmp_path, "odim", frames=8, shape=(130, 220))
    result = client.predict([handle_file(str(archive))], api_name="/forecast_radar_composites")
    check_forecast(result, 15, (100, 100), pages=5 + 15,
                   methods=(*ONE_MODEL, "pysteps S-PROG", "ConvLSTM at pysteps S-PROG's rain amounts"))
    assert "01:25 UTC" in result[NOTES] and "EUMETNET OPERA (open data, CC BY 4.0)" in result[NOTES]
    assert Image.open(result[LOCATOR]).size == (220, 130)  # the whole composite, the window outlined
    assert Image.open(result[DIAGRAM]).format == "PNG"
    assert "(row 10, column 0 of the 220×130 grid)" in result[NOTES]  # the wettest window
    moved = client.predict([handle_file(str(archive))], 500, 0, api_name="/move_radar_window")
    assert "moved inside the 220×130 grid, to row 30, column 0" in moved[NOTES]
    assert not np.array_equal(np.load(moved[DOWNLOADS][1]), np.load(result[DOWNLOADS][1]))
    with pytest.raises(AppError, match="one frame"):
        client.predict([handle_file(str(paths[0]))], api_name="/forecast_radar_composites")


def test_the_bundled_advection_model_serves_the_video_tab(client):
    summary = client.predict("checkpoints/moving-mnist-advection", "", api_name="/load_model")
    assert "checkpoints/moving-mnist-advection" in summary and "110.1" in summary  # its own card's test score
    result = client.predict(2015, 2, 10, api_name="/forecast_moving_mnist")
    check_forecast(result, 10, (64, 64), pages=10 + 10, methods=ONE_MODEL)  # not beside itself
    mse = {row[0]: row[1] for row in result[SCORES]["data"]}
    assert mse["ConvLSTM"] < mse["optical flow"]


def test_a_radar_model_is_refused_for_the_video_tabs(client):
    with pytest.raises(AppError, match=r"rain rate in mm/h.*Still using"):
        client.predict(str(ROOT / "checkpoints" / "radar"), "", api_name="/load_model")


def test_bad_radar_upload_message_reaches_the_client(client, tmp_path):
    np.save(tmp_path / "negative.npy", -np.ones((8, 20, 20), np.float32))
    with pytest.raises(AppError, match="negative rain rates"):
        client.predict(handle_file(tmp_path / "negative.npy"), "mm/h", api_name="/forecast_radar_upload")


def test_load_model_by_folder_then_keep_it_on_failure(client, tmp_path):
    folder = checkpoint(tmp_path / "short-model", context_frames=6, horizon=4)
    summary = client.predict(str(folder), "", api_name="/load_model")
    assert str(folder) in summary and "6 frames in → 4 out" in summary
    result = client.predict(1, 1, 5, api_name="/forecast_moving_mnist")
    assert "trained to forecast 4 frames" in result[NOTES]  # this session now uses the folder's model
    with pytest.raises(AppError, match=r"offline.*Still using .*short-model"):
        client.predict("nobody/no-such-model", "", api_name="/load_model")
    with pytest.raises(AppError, match="Type a Hub repo id"):
        client.predict("  ", "", api_name="/load_model")
    with pytest.raises(AppError, match="no config.json"):
        client.predict(str(tmp_path), "", api_name="/load_model")
    result = client.predict(1, 1, 5, api_name="/forecast_moving_mnist")
    assert "trained to forecast 4 frames" in result[NOTES]  # still the folder's model


def test_sessions_keep_their_own_model(app, client, tmp_path):
    folder = checkpoint(tmp_path / "other", horizon=2)
    client.predict(str(folder), "", api_name="/load_model")
    other = app.client(tmp_path / "second")
    assert "trained to forecast 2 frames" not in other.predict(1, 1, 3, api_name="/forecast_moving_mnist")[NOTES]


def _hub_cache(cache: Path, repo_id: str, **config) -> None:
    commit = "89abcdef0123456789abcdef0123456789abcdef"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    checkpoint(repo / "snapshots" / commit, **config)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


def test_app_on_a_space_loads_hub_repos_from_the_offline_cache_and_never_a_folder(tmp_path):
    _hub_cache(tmp_path / "cache", "someone/tiny-convlstm", horizon=3, hidden_channels=[4])
    _hub_cache(tmp_path / "cache", "someone/other-convlstm", horizon=2, hidden_channels=[4])
    app = App(tmp_path, "--model", "someone/tiny-convlstm",
              env={"HF_HUB_CACHE": str(tmp_path / "cache"), "SPACE_ID": "someone/convlstm-demo"})
    try:
        client = app.wait().client(tmp_path)
        result = client.predict(1, 2, 5, api_name="/forecast_moving_mnist")
        assert "trained to forecast 3 frames" in result[NOTES]
        check_forecast(result, 5, (64, 64))
        for folder in (ROOT / "checkpoints" / "moving-mnist", "~", "../shared"):
            with pytest.raises(AppError, match="from the Hub only, never from its folders"):
                client.predict(str(folder), "", api_name="/load_model")
        # a folder named like a repo gets the Hub's answer for that name (here: offline), never the folder
        with pytest.raises(AppError, match="checkpoints/moving-mnist: it is not in the local cache"):
            client.predict("checkpoints/moving-mnist", "", api_name="/load_model")
        assert "someone/other-convlstm" in client.predict("someone/other-convlstm", "", api_name="/load_model")
        assert list(tmp_path.glob("convlstm-first-view-*"))  # the start-up forecast's files
        with urllib.request.urlopen(app.url + "config", timeout=30) as response:
            page = response.read().decode()
        space = "https://huggingface.co/spaces/someone/convlstm-demo"
        assert f"({space}/tree/main)" in page  # the code, and the model cards, linked from the page
        assert f"({space}/blob/main/checkpoints/radar/README.md)" in page
    finally:
        app.stop()  # SIGTERM, as a container or a Space stops it
    assert app.process.returncode == 0 and not list(tmp_path.glob("convlstm-first-view-*"))


def test_app_refuses_to_start_without_a_model(tmp_path):
    result = subprocess.run([sys.executable, "app.py", "--model", "nobody/absent"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=os.environ | {"HF_HUB_OFFLINE": "1",
                                                                      "HF_HUB_CACHE": str(tmp_path)})
    assert result.returncode != 0
    assert "The app can't start: could not load a model from nobody/absent" in result.stderr
