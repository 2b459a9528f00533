"""The models an app serves: loaded once, shared by every session, and described for people.

    registry = ModelRegistry()
    loaded = registry.load("ORG/NAME")      # or a folder; None = the bundled checkpoint
    loaded.summary                          # markdown: network, training, test scores
    headline_markdown(loaded.info)          # the same in one line, beside optical flow
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from ..core.checkpoint import DEFAULT_CHECKPOINT, CheckpointError, failure_reason, load_model
from ..core.model import EncoderForecaster

_HUB_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
HUB_REPO_ID = re.compile(f"{_HUB_NAME}/{_HUB_NAME}")  # ORG/NAME as the Hub spells them
HUB_REVISION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,99}")  # a branch, tag or commit hash
HEADS = {"advection": " and the advection head (it moves the last frame along a predicted motion)",
         "objects": " and the objects head (it tells the digits apart; each is redrawn along its fitted bouncing path)"}
EVALUATION_PREFIXES = ("evaluation", "eval", "test", "results")  # JSON from python -m convlstm.evaluate
DATASET_NAMES = {"moving-mnist": "Moving MNIST", "radar": "radar"}
BUNDLED = "bundled default"  # the source of the bundled checkpoint, in a model key


def model_key(source: str | None, revision: str | None) -> str:
    """How the registry (and a session) names a model: "SOURCE@REVISION"."""
    return f"{source or BUNDLED}@{revision or ''}"


def split_key(key: str) -> tuple[str, str | None]:
    """A model key's (source, revision or None)."""
    source, _, revision = key.rpartition("@")
    return source, revision or None


def is_hub_repo_id(text: str) -> bool:
    return bool(HUB_REPO_ID.fullmatch(text)) and ".." not in text and "--" not in text


def model_info(model: EncoderForecaster, source: str, *, revision: str | None = None,
               folder: str | Path | None = None) -> dict:
    """What a person wants to know about a checkpoint. ``folder`` holds its files (config,
    card README.md, training.json, evaluation*.json from ``python -m convlstm.evaluate --out``);
    what is there is read, what is missing is left out."""
    config = dict(getattr(model, "_hub_mixin_config", {}) or {})
    info = {
        "source": source + (f" @ {revision}" if revision else ""),
        "parameters": model.num_parameters(),
        "layers": list(model.hidden_channels),
        "kernel_size": config.get("kernel_size"),
        "patch_size": model.patch_size,
        "frame_size": model.frame_size,
        "context_frames": model.context_frames,
        "horizon": model.horizon,
        "head": model.forecast_head,
        "device": str(next(model.parameters()).device),
    }
    folder = Path(folder) if folder else None
    if folder is None:
        return info
    training = _read_json(folder / "training.json")  # as train.py writes it: {"config", "best", totals...}
    if training:
        cfg, best = training.get("config", {}), training.get("best", {})
        runs = [*training.get("earlier_runs", []), training]  # a continued checkpoint: every run it took
        devices = list(dict.fromkeys(run["device"] for run in runs if run.get("device")))
        info["training"] = {k: v for k, v in {
            "dataset": cfg.get("dataset"), "digits": cfg.get("num_digits"),
            "steps": _total(runs, "steps"), "sequences": _total(runs, "sequences"), "minutes": _total(runs, "minutes"),
            "device": " then ".join(devices) or None, "val_mse": best.get("val_mse")}.items() if v is not None}
    tests = []
    for path in sorted(folder.glob("*.json")):
        results = _read_json(path) if path.name.startswith(EVALUATION_PREFIXES) else {}
        methods = results.get("methods", {})
        mean = methods.get("ConvLSTM", {}).get("mean")
        if mean and mean.get("mse") is not None:
            flow = methods.get("optical flow", {}).get("mean") or {}
            tests.append({"sequences": results.get("sequences"), "digits": results.get("digits"),
                          "mse": mean["mse"], "ssim": mean.get("ssim"), "file": path.name,
                          "flow_mse": flow.get("mse"), "flow_ssim": flow.get("ssim")})
    if tests:  # fewest digits first: the standard 2-digit test, then the generalization tests
        info["tests"] = sorted(tests, key=lambda t: (t["digits"] or 0, t["file"]))
    card = _front_matter(folder / "README.md")
    if card.get("datasets"):
        info["datasets"] = card["datasets"]
    return info


def summary_markdown(info: dict) -> str:
    layers = "-".join(str(c) for c in info["layers"])
    kernel = f", {info['kernel_size']}×{info['kernel_size']} kernels" if info.get("kernel_size") else ""
    lines = [
        f"**Model:** `{info['source']}` on {info['device']}",
        f"**Network:** ConvLSTM encoder–forecaster, {len(info['layers'])} layers {layers}{kernel}"
        f"{HEADS.get(info.get('head'), '')}, "
        f"{info['parameters'] / 1e6:.2f} M parameters; {info['frame_size']}×{info['frame_size']} frames "
        f"in {info['patch_size']}×{info['patch_size']} patches",
        f"**Trained for:** {info['context_frames']} frames in → {info['horizon']} out",
    ]
    t = info.get("training")
    if t:
        data = DATASET_NAMES.get(t.get("dataset"), t.get("dataset") or "unknown")
        if t.get("digits"):
            data += f", {t['digits']} digits"
        parts = [f"{t['sequences']:,} sequences" if t.get("sequences") else None,
                 f"{t['steps']:,} steps" if t.get("steps") else None,
                 f"{t['minutes']:.0f} min" if t.get("minutes") else None]
        extra = ", ".join(p for p in parts if p) + (f" on {t['device']}" if t.get("device") else "")
        lines.append(f"**Training data:** {data}" + (f" ({extra})" if extra else "")
                     + (f"; best validation MSE/frame {t['val_mse']:.1f}" if t.get("val_mse") else ""))
    elif info.get("datasets"):
        lines.append(f"**Training data:** {', '.join(map(str, info['datasets']))}")
    scores = []
    for test in info.get("tests", []):
        where = f"{test['sequences']:,} test sequences" if test.get("sequences") else "the test set"
        where += f" of {test['digits']} digits" if test.get("digits") else ""
        ssim = f", SSIM {test['ssim']:.3f}" if test.get("ssim") is not None else ""
        scores.append(f"MSE/frame {test['mse']:.1f}{ssim} on {where}")
    if scores:
        lines.append("**Test score:** " + "; ".join(scores))
    return "  \n".join(lines)


def headline_markdown(info: dict, beside: tuple[str, dict] | None = None) -> str:
    """One line for people: which model, how long it was trained, and its test score beside
    optical flow on the first (standard) test of its evaluation files, where there is one.
    ``beside`` (name, info): a model shown beside it, named and scored in the same line."""
    models = [("ConvLSTM", info), *([beside] if beside else [])]
    line = f"**{'Models' if beside else 'Model'}:** " + " and ".join(
        f"{name} `{model['source']}` ({_size_and_training(model)})" for name, model in models)
    first = _first_test(info)
    if first is None:
        return line + "; no test scores recorded"
    # the scores of the models tested on the same set as the first, side by side
    tests = [t for t in (_first_test(model) for _, model in models) if t and _test_set(t) == _test_set(first)]
    score = "MSE/frame ↓ " + " and ".join(f"**{t['mse']:.1f}**" for t in tests)
    if first.get("flow_mse") is not None:
        score += f" vs {first['flow_mse']:.1f} for optical flow"
    if all(t.get("ssim") is not None for t in tests):
        score += ", SSIM ↑ " + " and ".join(f"{t['ssim']:.3f}" for t in tests)
        score += f" vs {first['flow_ssim']:.3f}" if first.get("flow_ssim") is not None else ""
    return line + f" · **Test, {_test_set(first)}:** {score}"


def _total(runs: list[dict], key: str) -> float | None:
    """The sum of ``key`` over the runs, or None where a run does not record it."""
    values = [run.get(key) for run in runs]
    return None if None in values else sum(values)


def _size_and_training(info: dict) -> str:
    t = info.get("training") or {}
    size = f"{info['parameters'] / 1e6:.1f} M parameters"
    if not (t.get("minutes") or t.get("steps")):
        return f"{size}, trained for {info['context_frames']} → {info['horizon']} frames"
    how = f"{t['minutes']:.0f} min" if t.get("minutes") else f"{t['steps']:,} steps"
    data = DATASET_NAMES.get(t.get("dataset"), t.get("dataset"))
    return f"{size}, trained {how}" + (f" on {data}" if data else "")


def _first_test(info: dict) -> dict | None:
    tests = info.get("tests") or []
    return tests[0] if tests else None


def _test_set(test: dict) -> str:
    where = f"{test['sequences']:,} sequences" if test.get("sequences") else "the test set"
    return where + (f" of {test['digits']} digits" if test.get("digits") else "")


def checkpoint_folder(source: str, revision: str | None = None, cache_dir: str | Path | None = None) -> Path | None:
    """The folder of a checkpoint's small files: the folder itself, or the Hub snapshot (only the
    JSON files and the card are fetched; the weights are already there). None if unreachable."""
    local = Path(source).expanduser()
    if local.is_dir():
        return local
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(source, revision=revision, cache_dir=cache_dir,
                                      allow_patterns=["*.json", "README.md"]))
    except Exception:  # offline, gone, private: the summary goes without these extras
        return None


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _front_matter(card: Path) -> dict:
    """The simple YAML header of a model card: `key: value` and `key:` followed by `- item` lists."""
    try:
        text = card.read_text()
    except OSError:
        return {}
    if not text.startswith("---"):
        return {}
    out, key = {}, None
    for line in text.split("\n")[1:]:
        if line.strip() == "---":
            break
        if line.startswith("- ") and key:
            out.setdefault(key, []).append(line[2:].strip())
        elif ":" in line and not line.startswith(" "):
            key, value = (part.strip() for part in line.split(":", 1))
            if value:
                out[key] = value
    return out


@dataclass(frozen=True)
class LoadedModel:
    key: str
    model: EncoderForecaster
    info: dict

    @property
    def summary(self) -> str:
        return summary_markdown(self.info)


class ModelRegistry:
    """Models loaded so far, shared by every session of the app, by key ("source@revision").

    Each session keeps only a key, so switching models costs no copies; the first model loaded
    is always kept and at most ``capacity`` others (least recently used go first; a session
    whose model went is given it again on its next request). Models are only read once loaded
    (eval mode, no gradients), so concurrent requests can share one.
    """

    def __init__(self, capacity: int = 3, device=None, cache_dir: str | Path | None = None):
        self.capacity, self.device, self.cache_dir = capacity, device, cache_dir
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self.default: LoadedModel | None = None

    def load(self, source: str | None, revision: str | None = None) -> LoadedModel:
        """Load (or find) a model; raises CheckpointError with a message for the user."""
        source = (str(source).strip() if source is not None else "") or None
        revision = (revision or "").strip() or None
        key = model_key(source, revision)
        with self._lock:  # one load at a time: two sessions asking for the same repo load it once
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            model = load_model(source, revision=revision, device=self.device, cache_dir=self.cache_dir)
            # a folder is named relative to the working directory where it is inside it
            folder_given = source is None or Path(source).is_dir()
            shown = _relative(Path(source or DEFAULT_CHECKPOINT)) if folder_given else source
            folder = checkpoint_folder(source or str(DEFAULT_CHECKPOINT), revision, self.cache_dir)
            loaded = LoadedModel(key, model, model_info(model, shown, revision=revision, folder=folder))
            self._models[key] = loaded
            if self.default is None:
                self.default = loaded
            others = [k for k in self._models if k != self.default.key]
            for old in others[:max(0, len(others) - self.capacity)]:
                del self._models[old]
            return loaded

    def load_from_hub(self, source: str, revision: str | None = None) -> LoadedModel:
        """A model from the Hub by repo id, never from a folder of the server's: what links name,
        and all a visitor may load on a public server."""
        if not is_hub_repo_id(source):
            raise CheckpointError(f"{source!r} is not a Hugging Face Hub repo id (ORG/NAME); this server loads "
                                  "models from the Hub only, never from its folders")
        if Path(source).expanduser().exists():
            # A folder of the server's with an ORG/NAME form: the loader would read the folder, so it
            # is never loaded. The answer is the Hub's own for that name, as for any other repo, so
            # that nobody learns anything about the server's folders.
            from huggingface_hub import hf_hub_download

            try:
                hf_hub_download(source, "config.json", revision=revision, cache_dir=self.cache_dir)
            except Exception as error:  # offline, no such repo or revision: the loader's words for it
                raise CheckpointError(f"could not load a model from {source}: {failure_reason(error)}") from None
            raise CheckpointError(f"{source} can't be loaded from the Hub on this server")
        return self.load(source, revision)

    def get(self, key: str | None) -> LoadedModel:
        """The model a session chose (None: the default)."""
        if key is None or self.default is None or key == self.default.key:
            if self.default is None:
                raise CheckpointError("no model has been loaded yet")
            return self.default
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        return self.load(*split_key(key))


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
