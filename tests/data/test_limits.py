"""What an upload may be: sources, sizes and counts checked before decoding, refused with SequenceError."""

import numpy as np
import pytest
from PIL import Image

from convlstm.data import limits
from convlstm.data.uploads import SequenceError, read_sequence
from tests.helpers import H, W, _animated_gif_bytes, _gray, _png_bytes, _zip_bytes


def test_bad_sources(tmp_path):
    with pytest.raises(SequenceError, match="No file"):
        read_sequence([])
    with pytest.raises(SequenceError, match="missing.gif"):
        read_sequence(tmp_path / "missing.gif")
    with pytest.raises(SequenceError, match="folder"):
        read_sequence(tmp_path)
    Image.fromarray(_gray()[0]).save(tmp_path / "a.png")
    (tmp_path / "b.gif").write_bytes(_animated_gif_bytes())
    with pytest.raises(SequenceError, match="b.gif has 8 frames"):
        read_sequence([tmp_path / "a.png", tmp_path / "b.gif"])
    np.save(tmp_path / "c.npy", _gray())
    with pytest.raises(SequenceError, match="on its own"):
        read_sequence([tmp_path / "a.png", tmp_path / "c.npy"])


def test_limits_are_checked(tmp_path, monkeypatch):
    np.save(tmp_path / "a.npy", _gray())
    Image.fromarray(_gray()[0]).save(tmp_path / "a.png")
    monkeypatch.setattr(limits, "MAX_PIXELS", H * W - 1)
    for name in ("a.npy", "a.png"):
        with pytest.raises(SequenceError, match="too large"):
            read_sequence(tmp_path / name)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 100)
    with pytest.raises(SequenceError, match="at most"):
        read_sequence(tmp_path / "a.npy")
    monkeypatch.undo()
    monkeypatch.setattr(limits, "MAX_FILES", 2)
    (tmp_path / "many.zip").write_bytes(_zip_bytes({f"{i}.png": _png_bytes(_gray()[0]) for i in range(3)}))
    with pytest.raises(SequenceError, match="more than 2 files"):
        read_sequence(tmp_path / "many.zip")
