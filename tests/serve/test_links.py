"""Links that reproduce a Moving MNIST or a radar forecast: read, written, and refused. (How app.py uses them, with
the app built in-process, is in tests/app/test_app_links.py.)"""

import re
from urllib.parse import parse_qsl

import pytest

from convlstm.serve import links

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


def test_a_model_from_a_folder_has_no_link(tmp_path):
    assert links.share_query(1, 2, 10, f"{tmp_path}@", default_key=f"{tmp_path}@").startswith("?")  # the server's own
    assert links.share_query(1, 2, 10, f"{tmp_path}@", default_key="bundled default@") is None


def test_radar_links_are_read_and_written_alike():
    query = links.radar_query(4, 1.5, "rotation")
    assert query == "?radar=synthetic&seed=4&intensity=1.5&motion=rotation"
    assert links.read_radar_link(dict(parse_qsl(query[1:]))) == {"seed": 4, "intensity": 1.5, "motion": "rotation"}
    assert links.read_link(dict(parse_qsl(query[1:])), seed=1, digits=2, horizon=10) is None  # not Moving MNIST's
    for name in links.EXAMPLE_NAMES:
        assert links.read_radar_link(dict(parse_qsl(links.example_query(name)[1:]))) == {"example": name}
    assert links.EXAMPLE_NAMES == ("opera_2024-11-26", "fmi_2016-09-28")
    assert links.read_radar_link({"seed": "7"}) is None  # a Moving MNIST link


@pytest.mark.parametrize(("query", "message"), [
    ({"radar": "knmi"}, "doesn't have: it has 'synthetic' and the real examples opera_2024-11-26, fmi_2016-09-28"),
    ({"radar": "synthetic", "intensity": "9"}, "intensity must be a number from 0.5 to 2.0, got '9'"),
    ({"radar": "synthetic", "intensity": "heavy"}, "intensity must be a number"),
    ({"radar": "synthetic", "motion": "spiral"}, "motion must be one of translation, rotation"),
    ({"radar": "synthetic", "seed": "-1"}, "seed must be a whole number"),
])
def test_bad_radar_links_get_a_message(query, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        links.read_radar_link(query)
