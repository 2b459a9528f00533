"""Links that reproduce a forecast: a page's URL query, read and written.

    /?seed=7&digits=1&horizon=10                  a Moving MNIST forecast (optionally &model=ORG/NAME&revision=REV)
    /?radar=synthetic&seed=4&intensity=1.5&motion=rotation    a synthetic radar loop's
    /?radar=fmi_2016-09-28                        a real radar example's, by its file's name

A link names a model only by its Hugging Face Hub repo id (``registry.is_hub_repo_id``): it
never makes a server look in one of its own folders.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from ..core.checks import whole_number
from ..data.synthetic_radar import MOTIONS
from ..scoring.compare import MAX_HORIZON
from .pictures import COMPARISON_GIF
from .registry import HUB_REVISION, is_hub_repo_id, split_key
from .requests import MAX_DIGITS, MAX_INTENSITY, MAX_SEED, MIN_INTENSITY, RADAR_EXAMPLES

KEYS = ("seed", "digits", "horizon", "model", "revision")


def read_link(query, *, seed: int, digits: int, horizon: int) -> dict | None:
    """The forecast a page's URL query asks for, checked: {seed, digits, horizon, model, revision},
    what the query leaves out taken from the keywords (the page's own forecast); None when the
    query names none of them. Raises ValueError with a message for people."""
    query = {k: str(v).strip() for k, v in dict(query or {}).items()}
    if query.get("radar") or not any(query.get(k) for k in KEYS):  # a radar link is read_radar_link's
        return None
    link = {
        "seed": whole_number("The link's seed", query.get("seed") or seed, 0, MAX_SEED),
        "digits": whole_number("The link's number of digits", query.get("digits") or digits, 1, MAX_DIGITS),
        "horizon": whole_number("The link's horizon", query.get("horizon") or horizon, 1, MAX_HORIZON),
        "model": query.get("model") or None,
        "revision": query.get("revision") or None,
    }
    if link["model"] and not is_hub_repo_id(link["model"]):
        raise ValueError(f"The link's model {link['model']!r} is not a Hugging Face Hub repo id (ORG/NAME): "
                         "a link can only name a model on the Hub, never a folder.")
    if link["revision"] and (not HUB_REVISION.fullmatch(link["revision"]) or ".." in link["revision"]):
        raise ValueError(f"The link's revision {link['revision']!r} is not a branch, tag or commit name.")
    if link["revision"] and not link["model"]:
        raise ValueError("The link names a revision but no model (add &model=ORG/NAME).")
    return link


def share_query(seed, digits, horizon, model_key: str | None, *, default_key: str) -> str | None:
    """The URL query of a forecast made with the model of registry key ``model_key`` (None: the
    server's own, ``default_key``, which a link leaves out); None when that model is a folder,
    which a link can't name."""
    query = {"seed": int(float(seed)), "digits": int(float(digits)), "horizon": int(float(horizon))}
    key = model_key or default_key
    source, revision = split_key(key)
    if is_hub_repo_id(source) and not Path(source).expanduser().exists():
        query |= {"model": source} | ({"revision": revision} if revision else {})
    elif key != default_key:
        return None
    return "?" + urlencode(query)


def share_text(seed, digits, horizon, model_key: str | None, *, default_key: str) -> str:
    """What the page's share box holds: the forecast's URL query, or, for a model in a folder, why there is none."""
    query = share_query(seed, digits, horizon, model_key, default_key=default_key)
    if query is None:
        return (f"This forecast uses the model in the folder {split_key(model_key)[0]}; a link can only name a "
                f"model on the Hugging Face Hub. To share it, download {COMPARISON_GIF} below and send that.")
    return query


def read_radar_link(query) -> dict | None:
    """The radar forecast a page's URL query asks for, checked: {"example": its file's name} or {"seed", "intensity",
    "motion"} of a synthetic loop; None when the query asks for none. Raises ValueError with a message for people."""
    query = {k: str(v).strip() for k, v in dict(query or {}).items()}
    kind = query.get("radar")
    if not kind:
        return None
    if kind in EXAMPLE_NAMES:
        return {"example": kind}
    if kind != "synthetic":
        raise ValueError(f"The link asks for the radar forecast {kind!r}, which this app doesn't have: it has "
                         f"'synthetic' and the real examples {', '.join(EXAMPLE_NAMES)}.")
    try:
        intensity = float(query.get("intensity") or 1)
    except ValueError:
        intensity = float("nan")
    if not MIN_INTENSITY <= intensity <= MAX_INTENSITY:
        raise ValueError(f"The link's intensity must be a number from {MIN_INTENSITY} to {MAX_INTENSITY}, got "
                         f"{query.get('intensity')!r}.")
    motion = query.get("motion") or "mixed"
    if motion not in MOTIONS:
        raise ValueError(f"The link's motion must be one of {', '.join(MOTIONS)}, got {motion!r}.")
    return {"seed": whole_number("The link's seed", query.get("seed") or 0, 0, MAX_SEED), "intensity": intensity,
            "motion": motion}


def radar_query(seed, intensity, motion) -> str:
    """The URL query of a synthetic radar forecast."""
    return "?" + urlencode({"radar": "synthetic", "seed": int(float(seed)), "intensity": float(intensity),
                            "motion": motion})


def example_query(name: str) -> str:
    """The URL query of a real radar example's forecast, by its file's name (``EXAMPLE_NAMES``)."""
    return "?" + urlencode({"radar": name})


EXAMPLE_NAMES = tuple(path.stem for path in RADAR_EXAMPLES)  # in the order of their titles
