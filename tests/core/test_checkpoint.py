"""Checkpoints: saved and loaded alike, corrupted or mismatched ones fail with a message, old ones keep
their meaning."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from convlstm import CheckpointError, EncoderForecaster, forecast, load_model
from tests.helpers import small_model


def test_save_and_load_give_identical_outputs(tmp_path):
    model = small_model(peephole="channel", autoregressive=True).eval()
    with torch.no_grad():
        for cell in [*model.encoder.cells, *model.forecaster.cells]:
            cell.w_ci.normal_()
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["hidden_channels"] == [6, 5] and config["autoregressive"] is True
    frames = torch.rand(1, 5, 1, 16, 16)
    for loaded in (EncoderForecaster.from_pretrained(tmp_path), load_model(tmp_path, device="cpu")):
        assert torch.equal(loaded(frames, 4), model(frames, 4))


def test_corrupted_or_mismatched_checkpoints_fail_clearly(tmp_path):
    small_model().save_pretrained(tmp_path / "good")
    weights = load_file(tmp_path / "good" / "model.safetensors")
    config = (tmp_path / "good" / "config.json").read_text()

    def folder(name, weights=None, config=config, raw=None):
        path = tmp_path / name
        path.mkdir()
        (path / "config.json").write_text(config)
        if raw is not None:
            (path / "model.safetensors").write_bytes(raw)
        else:
            save_file(weights, path / "model.safetensors")
        return path

    missing = {k: v for k, v in weights.items() if "w_co" not in k}
    extra = weights | {"encoder.cells.0.surprise": torch.zeros(1)}
    cases = {
        folder("truncated", raw=(tmp_path / "good" / "model.safetensors").read_bytes()[:300]): "",
        folder("missing", missing): "w_co",
        folder("extra", extra): "surprise",
        folder("shape", weights, config=config.replace('"kernel_size": 3', '"kernel_size": 5')): "size",
    }
    for path, detail in cases.items():
        with pytest.raises(CheckpointError, match=f"could not load a model from {path}.*{detail}"):
            load_model(path, device="cpu")
    with pytest.raises(CheckpointError, match="no config.json"):
        load_model(tmp_path / "nowhere")


def test_checkpoints_without_a_recorded_scale_take_gray_levels(tmp_path):
    folder = tmp_path / "old"
    EncoderForecaster(hidden_channels=[4], kernel_size=3).save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    for key in ("value_transform", "step_minutes"):  # as written before the contract was recorded
        config.pop(key)
    (folder / "config.json").write_text(json.dumps(config))
    old = load_model(folder, device="cpu")
    assert old.value_transform == "unit" and old.step_minutes is None
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        forecast(old, np.full((3, 64, 64), 2.0, np.float32), 2)
