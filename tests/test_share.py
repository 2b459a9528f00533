"""Sharing a forecast: the side-by-side GIF (convlstm.showcase) and the links the app reads and
writes (convlstm.links, and app.py's use of them, imported in-process: the app is built, not launched)."""

import huggingface_hub
import numpy as np
import pytest
from PIL import Image

from convlstm import CheckpointError, EncoderForecaster, links, radar, render, showcase
from convlstm.compare import compare


def frames_of(path) -> list[np.ndarray]:
    gif = Image.open(path)
    out = []
    for t in range(gif.n_frames):
        gif.seek(t)
        out.append(np.asarray(gif.convert("RGB")))
    return out


def test_gray_pages_keep_few_levels_and_stay_close(tmp_path):
    ramp = np.tile(np.arange(256, dtype=np.uint8), (40, 1))  # every gray level
    pages = np.stack([np.roll(ramp, 8 * t, axis=1) for t in range(6)])
    small = showcase.write_small_gif(pages, tmp_path / "small.gif", fps=4, colors=64)
    gif = Image.open(small)
    assert gif.n_frames == 6 and gif.info["loop"] == 0 and gif.info["duration"] == 250
    frames = np.stack(frames_of(small))[..., 0]
    assert len(np.unique(frames)) <= 64
    assert np.abs(frames.astype(int) - pages).max() <= 2  # 64 levels: at most half a step (2) off


def test_colour_pages_share_one_small_palette(tmp_path):
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=4, value_transform="dbz60", step_minutes=6).eval()
    c = compare(model, radar.radar(1, seed=1, frames=7, size=40)[0], context=3, horizon=4)
    out = showcase.render(c, tmp_path)
    frames = np.stack(frames_of(out.comparison_gif))
    assert len(frames) == 3 + 4  # the input, then each lead time
    assert len(np.unique(frames.reshape(-1, 3), axis=0)) <= showcase.GIF_COLOURS
    assert frames.shape[1] > 40 and frames.shape[2] > 4 * 40  # labels, four panels, the colour legend


def test_render_puts_the_side_by_side_gif_first_among_the_downloads(tmp_path):
    model = EncoderForecaster(hidden_channels=[8], kernel_size=3).eval()
    c = compare(model, showcase.moving_mnist_sequence(3, 2, 10, 10), context=10, horizon=10)
    out = showcase.render(c, tmp_path)
    assert [p.name for p in out.downloads] == [showcase.COMPARISON_GIF, "convlstm_forecast.npy",
                                               "convlstm_forecast.gif"]
    frames = frames_of(out.comparison_gif)
    assert len(frames) == 20 and frames[0].shape[1] > 3 * 128  # ConvLSTM, optical flow, truth: about 128 px each
    full = render.write_gif(np.stack(frames), tmp_path / "full.gif")  # the same pages at 256 levels
    assert out.comparison_gif.stat().st_size < full.stat().st_size
    if out.animation.suffix == ".gif":  # no WebM encoder here: the small GIF is the animation as well
        assert out.animation == out.comparison_gif


# --- links ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app():
    return pytest.importorskip("app")  # builds the page and its start-up forecast (a few seconds)


FIRST = dict(seed=2015, digits=2, horizon=10)  # what a link leaves out


def test_a_page_without_a_link_query_gets_none():
    assert links.read_link({}, **FIRST) is None
    assert links.read_link({"__theme": "dark", "logs": "container"}, **FIRST) is None  # what a Space adds


def test_links_are_read_and_written_alike():
    link = links.read_link({"seed": "7", "digits": "1", "horizon": "12"}, **FIRST)
    assert link == {"seed": 7, "digits": 1, "horizon": 12, "model": None, "revision": None}
    assert links.read_link({"seed": "7"}, **FIRST)["horizon"] == 10  # what's missing is the page's own
    assert links.share_query(7, 1.0, 12, None, default_key="x@") == "?seed=7&digits=1&horizon=12"
    hub = links.read_link({"seed": "3", "model": "some-org/tiny.convlstm_v2", "revision": "v1.0"}, **FIRST)
    assert hub["model"] == "some-org/tiny.convlstm_v2" and hub["revision"] == "v1.0"
    assert links.share_query(3, 2, 10, "some-org/tiny.convlstm_v2@v1.0", default_key="x@") == \
        "?seed=3&digits=2&horizon=10&model=some-org%2Ftiny.convlstm_v2&revision=v1.0"


@pytest.mark.parametrize("query, message", [
    ({"seed": "-1"}, "The link's seed must be a whole number from 0 to 2147483647"),
    ({"seed": "2147483648"}, "The link's seed"),
    ({"seed": "seven"}, "The link's seed"),
    ({"seed": "1.5"}, "The link's seed"),
    ({"digits": "4"}, "The link's number of digits must be a whole number from 1 to 3, got '4'"),
    ({"horizon": "21"}, "The link's horizon"),
    ({"revision": "v1"}, "names a revision but no model"),
    ({"model": "org/name", "revision": "a b"}, "not a branch, tag or commit"),
])
def test_bad_link_values_get_a_message(query, message):
    with pytest.raises(ValueError, match=message):
        links.read_link(query, **FIRST)


@pytest.mark.parametrize("model", ["/etc", "../checkpoints/radar", "./checkpoints/radar", "~/models/x",
                                   "checkpoints", "checkpoints/radar/..", "a/b/c", "C:\\models\\x", "a--b/c",
                                   "org/../etc", "org/name "*20])
def test_a_link_never_names_a_folder(model):
    with pytest.raises(ValueError, match="not a Hugging Face Hub repo id"):
        links.read_link({"model": model}, **FIRST)


@pytest.mark.slow
def test_a_folder_with_a_repo_id_form_tells_a_link_nothing(app, monkeypatch):
    """checkpoints/radar is a folder of the app's, and a valid repo id: a link gets the Hub's answer
    for that name, as for a repo that isn't there, and the folder is never loaded."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    answers = []
    for name in ("checkpoints/radar", "nobody/absent"):
        with pytest.raises(CheckpointError) as error:
            app.link_model({"model": name, "revision": None})
        answers.append(str(error.value).replace(name, "NAME"))
    assert answers[0] == answers[1] and "offline" in answers[0]


def test_a_model_from_a_folder_has_no_link(tmp_path):
    assert links.share_query(1, 2, 10, f"{tmp_path}@", default_key=f"{tmp_path}@").startswith("?")  # the server's own
    assert links.share_query(1, 2, 10, f"{tmp_path}@", default_key="bundled default@") is None


@pytest.mark.slow
def test_the_app_says_why_a_folder_model_has_no_link(app, tmp_path):
    text = app.share_query(1, 2, 10, f"{tmp_path}@")
    assert not text.startswith("?") and str(tmp_path) in text and showcase.COMPARISON_GIF in text


class Page:
    """What first_view reads of a page's request: its URL query."""

    def __init__(self, **query):
        self.query_params = query


@pytest.mark.slow
def test_the_start_up_forecast_serves_its_own_link(app):
    plain, own = app.first_view(Page()), app.first_view(Page(seed="2015", digits="2", horizon=str(app.FIRST_HORIZON)))
    grid = 1 + 3 + 3  # after the pending link, the three controls, then notes, video and GIF player
    for out in (plain, own):
        assert out[0] is None  # nothing left to compute: no link forecast follows
        assert out[grid] == str(app.FIRST_VIEW[1].grid)  # the files made at start-up
    assert plain[-2] == f"?seed=2015&digits=2&horizon={app.FIRST_HORIZON}"  # its link
    other = app.first_view(Page(seed="7", digits="1"))
    assert other[0]["seed"] == 7 and other[1:4] == [7, 1, app.FIRST_HORIZON]  # the controls now, the forecast next
