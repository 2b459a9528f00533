"""Which decoder a file needs: told by its content where its name says nothing."""

import numpy as np
import pytest
from PIL import Image

from convlstm.data import limits
from convlstm.data.decoders import kind
from convlstm.data.uploads import SequenceError, read_sequence
from tests.helpers import H, T, W, _gray


def test_one_still_is_one_frame_and_content_is_sniffed(tmp_path, monkeypatch):
    Image.fromarray(_gray()[0]).save(tmp_path / "radar.dat", format="PNG")
    assert read_sequence(tmp_path / "radar.dat").shape == (1, H, W)
    np.save(tmp_path / "x.npy", _gray())
    (tmp_path / "x.npy").rename(tmp_path / "x.bin")
    assert read_sequence(tmp_path / "x.bin").shape == (T, H, W)
    Image.fromarray(_gray()[0]).save(tmp_path / "big.dat", format="PNG")
    monkeypatch.setattr(limits, "MAX_PIXELS", 10)
    with pytest.raises(SequenceError, match="big.dat: frames of 16×12 pixels are too large"):
        read_sequence(tmp_path / "big.dat")


@pytest.mark.parametrize(("name", "head", "expected"), [
    ("a.GIF", b"", "image"), ("a.webm", b"", "video"), ("a.npz", b"", "npz"), ("a.zip", b"", "zip"),
    ("a.bin", b"\x93NUMPY\x01\x00", "npy"), ("a.bin", b"PK\x03\x04", "zip"), ("a.bin", b"nothing known", "unknown"),
])
def test_the_suffix_tells_the_kind_else_the_first_bytes(tmp_path, name, head, expected):
    (tmp_path / name).write_bytes(head)
    assert kind(tmp_path / name) == expected
