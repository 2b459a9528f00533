"""app.py's use of the links (convlstm.serve.links), imported in-process: the app is built, not launched."""

import huggingface_hub
import pytest

from convlstm import CheckpointError
from convlstm.serve import pictures


@pytest.fixture(scope="module")
def app():
    return pytest.importorskip("app")  # builds the page (a few seconds); the backend loads its models when asked


@pytest.mark.slow
def test_a_folder_with_a_repo_id_form_tells_a_link_nothing(app, monkeypatch):
    """checkpoints/radar is a folder of the app's, and a valid repo id: a link gets the Hub's answer
    for that name, as for a repo that isn't there, and the folder is never loaded."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    answers = []
    for name in ("checkpoints/radar", "nobody/absent"):
        with pytest.raises(CheckpointError) as error:
            app.BACKEND.link_model(name, None)
        answers.append(str(error.value).replace(name, "NAME"))
    assert answers[0] == answers[1] and "offline" in answers[0]


@pytest.mark.slow
def test_the_app_says_why_a_folder_model_has_no_link(app, tmp_path):
    text = app.video.share_text(1, 2, 10, f"{tmp_path}@")
    assert not text.startswith("?") and str(tmp_path) in text and pictures.COMPARISON_GIF in text


class Page:
    """What first_view reads of a page's request: its URL query."""

    def __init__(self, **query):
        self.query_params = query


@pytest.mark.slow
def test_the_start_up_forecast_serves_its_own_link(app):
    horizon = app.BACKEND.default.model.horizon
    plain, own = app.video.first_view(Page()), app.video.first_view(Page(seed="2015", digits="2", horizon=str(horizon)))
    page = 4  # the model lines and settings come first, then the pending link
    grid = page + 1 + 3 + 3  # after the pending link, the three controls, then notes, video and GIF player
    for out in (plain, own):
        assert out[page] is None  # nothing left to compute: no link forecast follows
        assert out[grid] == str(app.BACKEND.first_view.files.grid)  # the files made at start-up
    assert plain[-2] == f"?seed=2015&digits=2&horizon={horizon}"  # its link
    other = app.video.first_view(Page(seed="7", digits="1"))
    assert other[page]["seed"] == 7 and other[page + 1:page + 4] == [7, 1, horizon]  # the controls; the forecast next
