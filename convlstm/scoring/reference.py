"""The field's reference nowcasts, from pysteps: Lucas–Kanade extrapolation and S-PROG.

Needs pysteps (an optional extra: ``pip install -r requirements-radar.txt``).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

LK, SPROG = "pysteps LK", "pysteps S-PROG"
MIN_FRAMES = 3  # S-PROG's AR(2) needs the last three frames


def pysteps_forecasts(context_mm_h: np.ndarray, horizon: int) -> dict[str, np.ndarray]:
    """pysteps' Lucas–Kanade motion with semi-Lagrangian extrapolation of the last field, and S-PROG
    (6 cascade levels, AR(2)) on dBR, as in pysteps' own examples; (horizon, H, W) mm/h each."""
    from pysteps import motion, nowcasts
    from pysteps.utils import transformation

    threshold = 0.1  # mm/h: below is no rain, as in pysteps' examples
    db, meta = transformation.dB_transform(context_mm_h, threshold=threshold, zerovalue=-15.0)
    velocity = motion.get_method("LK")(db[-MIN_FRAMES:])
    extrapolated = nowcasts.get_method("extrapolation")(context_mm_h[-1], velocity, horizon,
                                                        extrap_kwargs={"outval": 0.0})
    with contextlib.redirect_stdout(io.StringIO()):  # S-PROG prints its settings and every step: not an app's log
        sprog = nowcasts.get_method("sprog")(db[-MIN_FRAMES:], velocity, horizon, n_cascade_levels=6, ar_order=2,
                                             precip_thr=meta["threshold"])
    sprog, _ = transformation.dB_transform(sprog, meta, inverse=True)
    return {name: np.nan_to_num(f, nan=0.0).clip(0, None).astype(np.float32)
            for name, f in ((LK, extrapolated), (SPROG, sprog))}
