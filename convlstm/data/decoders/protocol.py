"""What every decoder yields, first a ``Start``, then its frames.

A decoder is a generator. It first yields a ``Start``, what it knows before the first frame (the
frame count, if it has one, which may be wrong; the pixels of a frame), then one ``(name, decode)``
pair per frame, in order. ``decode()`` returns that frame as a 2-D float array and raises only
SequenceError; ``name`` is what a message about the frame should call it. The reader calls
``decode`` only for the frames it keeps, before it pulls the next pair, so a skipped frame costs no
conversion: a video's is grabbed, never retrieved; a picture in a list or a ZIP is not even read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np


class Start(NamedTuple):
    """What a decoder knows before its first frame."""

    count: int | None = None  # frames it holds, if known (some containers only estimate)
    pixels: int = 0  # pixels of one frame, if it matters: a long video of large frames stops sooner


Frame = tuple[str, Callable[[], np.ndarray]]
Decoder = Iterator[Start | Frame]
