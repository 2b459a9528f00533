"""The format decoders of ``convlstm.data.uploads``: each turns one upload into frames and does nothing else.

One module per kind of input: ``images`` (pictures, animations and ZIPs of pictures, through
Pillow), ``videos`` (OpenCV) and ``arrays`` (``.npy``, ``.npz``); beside them what they share:
``protocol`` (what a decoder yields), ``kinds`` (which decoder a file needs), ``gray`` (pixels to
gray values) and ``zips`` (a ZIP's members, within the limits).

Values: pictures and videos give luminance in [0, 1]; arrays give uint8 / uint16 / bool in [0, 1]
and any other numbers as they are (the reader rescales them), or with ``raw`` every number as stored.
Which frames are kept, shrinking, sizes, the value rule and the notes belong to ``uploads``.
"""

from .arrays import array, npy, npz
from .images import image, pictures, zipped
from .kinds import kind
from .protocol import Decoder, Frame, Start
from .videos import video

__all__ = ["Decoder", "Frame", "Start", "array", "image", "kind", "npy", "npz", "pictures", "video", "zipped"]
