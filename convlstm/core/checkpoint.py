"""Loading a trained model from a checkpoint folder or a Hugging Face Hub repo id."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .model import EncoderForecaster

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "moving-mnist"
RADAR_CHECKPOINT = DEFAULT_CHECKPOINT.parent / "radar"  # the app's radar tab
ADVECTION_CHECKPOINT = DEFAULT_CHECKPOINT.parent / "moving-mnist-advection"  # beside it in the video tab
OBJECTS_CHECKPOINT = DEFAULT_CHECKPOINT.parent / "moving-mnist-objects"  # the app's video model: sharp digits


class CheckpointError(RuntimeError):
    """A model could not be loaded: missing, offline, corrupted or incompatible."""


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(device: torch.device) -> str:
    """The machine a run used, for its records: the GPU's name, or the CPU's cores and torch build."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({os.cpu_count()} cores, torch {torch.__version__})"


def load_model(
    source: str | Path | None = None,
    *,
    revision: str | None = None,
    device: str | torch.device | None = None,
    cache_dir: str | Path | None = None,
) -> EncoderForecaster:
    """Load an EncoderForecaster from a local folder or a Hugging Face Hub repo id.

    ``None`` loads the bundled default checkpoint. Every weight must match the config:
    a missing, extra or misshapen tensor raises CheckpointError, as does a repo that can't
    be reached (offline, unknown, or not in the local cache when HF_HUB_OFFLINE=1).
    """
    source = DEFAULT_CHECKPOINT if source is None else source
    device = torch.device(device) if device is not None else default_device()
    local = Path(source).expanduser()
    looks_like_path = isinstance(source, Path) or local.exists() or str(source).startswith((".", "/", "~"))
    if looks_like_path and not (local / "config.json").is_file():
        raise CheckpointError(f"{source} is not a model folder: it has no config.json")
    try:
        model = EncoderForecaster.from_pretrained(
            str(local) if looks_like_path else str(source),
            revision=revision, cache_dir=cache_dir, map_location="cpu", strict=True,
        )
    except Exception as error:  # the hub, safetensors and torch each raise their own types
        raise CheckpointError(f"could not load a model from {source!s}: {failure_reason(error)}") from error
    return model.float().to(device).eval()


def failure_reason(error: Exception) -> str:
    """Why a model could not be loaded, in words for the person who asked (the hub, safetensors and torch
    each raise their own types)."""
    name = type(error).__name__
    if name in ("LocalEntryNotFoundError", "OfflineModeIsEnabled"):
        return "it is not in the local cache and the Hub can't be reached (offline)"
    if name in ("RepositoryNotFoundError", "GatedRepoError"):
        return "no such model repository on the Hub (or it is private)"
    if name == "RevisionNotFoundError":
        return "that revision does not exist"
    detail = " ".join(str(error).split())  # torch's message spans several lines
    return f"{name}: {detail[:600]}" if detail else name
