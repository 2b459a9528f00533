"""Links that reproduce a Moving MNIST forecast: a page's URL query, read and written.

    /?seed=7&digits=1&horizon=10                  (optionally &model=ORG/NAME&revision=REV)

A link names a model only by its Hugging Face Hub repo id (``registry.is_hub_repo_id``): it
never makes a server look in one of its own folders.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from ..core.checks import whole_number
from ..scoring.compare import MAX_HORIZON
from .pictures import COMPARISON_GIF
from .registry import HUB_REVISION, is_hub_repo_id, split_key
from .requests import MAX_DIGITS, MAX_SEED

KEYS = ("seed", "digits", "horizon", "model", "revision")


def read_link(query, *, seed: int, digits: int, horizon: int) -> dict | None:
    """The forecast a page's URL query asks for, checked: {seed, digits, horizon, model, revision},
    what the query leaves out taken from the keywords (the page's own forecast); None when the
    query names none of them. Raises ValueError with a message for people."""
    query = {k: str(v).strip() for k, v in dict(query or {}).items()}
    if not any(query.get(k) for k in KEYS):
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
