"""What a training run leaves behind: its checkpoint, and the training.json beside it that records the
run (and the runs of the checkpoint it continued)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from safetensors.torch import load_file, save_file

from ..core.model import EncoderForecaster
from .train_config import TrainConfig


def save(model: EncoderForecaster, folder: Path, config: TrainConfig, record: dict) -> None:
    """The checkpoint, and its training.json: the config and the run so far ({"config", "best", ...};
    train() rewrites it at the end with the run's totals)."""
    model.save_pretrained(folder)
    if config.save_dtype == "float16":  # load_model casts back to float32
        weights = folder / "model.safetensors"
        save_file({k: v.half() for k, v in load_file(weights).items()}, weights, metadata={"format": "pt"})
    write_training_json(folder, config, record)


def write_training_json(folder: Path, config: TrainConfig, summary: dict) -> None:
    record = {"config": dataclasses.asdict(config), **summary, "earlier_runs": earlier_runs(config.init_from)}
    (folder / "training.json").write_text(json.dumps(record, indent=2))


def earlier_runs(init_from: str | None) -> list[dict]:
    """The training records behind a checkpoint a run continues, oldest first: its own earlier runs,
    then its run; so a checkpoint's training.json tells its whole training (a Hub id: not looked up)."""
    path = Path(init_from) / "training.json" if init_from else None
    if path is None or not path.is_file():
        return []
    record = json.loads(path.read_text())
    return [*record.pop("earlier_runs", []), record]
