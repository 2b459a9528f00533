"""The video decoder, through the reader: every container and codec reads back, in order."""

import cv2
import numpy as np
import pytest

from convlstm.data.uploads import read_sequence
from tests.helpers import _check, _gray


@pytest.mark.parametrize("suffix, codec, tolerance", [
    (".avi", "MJPG", 0.03), (".mp4", "mp4v", 0.03), (".webm", "VP80", 0.03), (".mkv", "FFV1", 0.01),
    (".mov", "mp4v", 0.03),
])
def test_videos_read_back(tmp_path, suffix, codec, tolerance):
    frames = _gray(t=6, h=32, w=48)
    path = tmp_path / f"clip{suffix}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 4, (48, 32), True)
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    writer.release()
    out = read_sequence(path)
    _check(out)
    assert out.shape == frames.shape
    assert np.abs(out - frames / 255).mean() < tolerance
    assert np.all(np.diff(out.mean(axis=(1, 2))) > 0)  # frames in order
