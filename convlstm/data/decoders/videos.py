"""The video decoder (OpenCV's FFmpeg)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..limits import SequenceError, check_pixels, failures_as
from .gray import luminance, unit
from .protocol import Decoder, Start


def video(path: Path) -> Decoder:
    """A video (OpenCV's FFmpeg). Every frame is grabbed; only the kept ones are retrieved (converted)."""
    name = path.name
    message = (
        f"{name}: this video has no frames that OpenCV can decode. "
        "Try an MP4 (H.264/MPEG-4), WebM or an animated GIF."
    )

    @failures_as(message)
    def frame() -> np.ndarray:
        ok, pixels = capture.retrieve()
        if not ok:
            raise SequenceError(message)
        check_pixels(name, pixels.shape[1], pixels.shape[0])
        return luminance(unit(pixels), bgr=True)

    with failures_as(message):
        # Naming FFmpeg keeps OpenCV from reading a name like "img%03d.png" as an image pattern.
        capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        try:
            width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
            height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
            if not capture.isOpened() or width <= 0 or height <= 0:
                raise SequenceError(message)
            check_pixels(name, width, height)
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))  # an estimate for some containers
            yield Start(count if count > 0 else None, width * height)
            grabbed = False
            while capture.grab():
                grabbed = True
                yield name, frame
            if not grabbed:
                raise SequenceError(message)
        finally:
            capture.release()
