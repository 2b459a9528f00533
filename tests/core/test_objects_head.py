"""The objects head: the ConvLSTM labels the context's pixels by object, and the forecast is drawn from them."""

import numpy as np
import pytest
import torch

from convlstm import EncoderForecaster, forecast, load_model
from convlstm.core.checkpoint import DEFAULT_CHECKPOINT
from convlstm.data.mnist import evaluation_set
from convlstm.scoring import baselines, metrics

OBJECTS_CHECKPOINT = DEFAULT_CHECKPOINT.parent / "moving-mnist-objects"


def objects_model(**kwargs):
    return EncoderForecaster(hidden_channels=[6, 5], kernel_size=3, forecast_head="objects", **kwargs).eval()


def test_owner_logits_label_every_pixel_of_every_context_frame():
    model = objects_model(num_objects=3)
    logits = model.owner_logits(torch.rand(2, 4, 1, 64, 64))
    assert logits.shape == (2, 4, 3, 64, 64)


def test_the_forecast_is_drawn_frames_in_the_unit_range():
    model = objects_model()
    frames = torch.from_numpy(evaluation_set("test", n=2)[:, :10, None])
    with torch.no_grad():
        logits = model(frames, 3)
    assert logits.shape == (2, 3, 1, 64, 64)
    drawn = torch.sigmoid(logits)
    assert drawn.min() >= 0 and drawn.max() <= 1 and drawn.amax(dim=(2, 3, 4)).min() > 0.5  # digits, not blur


def test_objects_checkpoints_save_and_load_alike(tmp_path):
    model = objects_model(segmentation="blobs-first")
    model.save_pretrained(tmp_path)
    loaded = load_model(tmp_path, device="cpu")
    assert loaded.forecast_head == "objects" and loaded.segmentation == "blobs-first"
    frames = torch.from_numpy(evaluation_set("test", n=1)[:, :10, None])
    with torch.no_grad():
        assert torch.equal(loaded(frames, 2), model(frames, 2))


def test_bad_objects_settings_fail_clearly():
    with pytest.raises(ValueError, match="segmentation"):
        objects_model(segmentation="guess")
    with pytest.raises(ValueError, match="num_objects"):
        objects_model(num_objects=0)


@pytest.mark.skipif(not (OBJECTS_CHECKPOINT / "config.json").is_file(), reason="no bundled objects checkpoint")
def test_the_bundled_objects_model_beats_optical_flow_on_test_sequences():
    model = load_model(OBJECTS_CHECKPOINT, device="cpu")
    sequences = evaluation_set("test", n=20)
    predicted = forecast(model, sequences[:, :10], 10, precision="fp32")
    flow = np.stack([baselines.optical_flow(s, 10) for s in sequences[:, :10]])
    truth = sequences[:, 10:]
    assert metrics.ssim(predicted, truth).mean() > metrics.ssim(flow, truth).mean() + 0.1
    assert metrics.mse(predicted, truth).mean() < metrics.mse(flow, truth).mean()
