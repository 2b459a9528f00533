"""A ZIP's members, through the reader: folders and junk skipped, natural order, names that are never paths."""

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from convlstm.data.uploads import read_sequence
from tests.helpers import _gray, _png_bytes


def test_zip_of_pictures_in_folders_in_natural_order_without_junk(tmp_path):
    frames = _gray(t=11)
    with zipfile.ZipFile(tmp_path / "frames.zip", "w") as archive:
        for i in reversed(range(11)):
            archive.writestr(f"run/part{i % 2}/frame{i}.png", _png_bytes(frames[i]))
        archive.writestr("run/", b"")
        archive.writestr("__MACOSX/run/._frame1.png", b"junk")
        archive.writestr("run/.DS_Store", b"junk")
    out = read_sequence(tmp_path / "frames.zip")
    np.testing.assert_allclose(out, frames / 255, atol=1e-6)


def test_zip_member_names_are_never_paths(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    upload = work / "upload"
    upload.mkdir()
    frames = _gray(t=3)
    with zipfile.ZipFile(upload / "evil.zip", "w") as archive:
        archive.writestr("../../frame0.png", _png_bytes(frames[0]))
        archive.writestr("/tmp/frame1.png", _png_bytes(frames[1]))
        archive.writestr("..\\..\\frame2.png", _png_bytes(frames[2]))
    before = {p: set(os.listdir(p)) for p in (tmp_path, work, upload, Path(tempfile.gettempdir()))}
    out = read_sequence(upload / "evil.zip")
    np.testing.assert_allclose(out, frames / 255, atol=1e-6)
    assert {p: set(os.listdir(p)) for p in before} == before
