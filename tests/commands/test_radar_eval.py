"""The synthetic-radar evaluation: every method and score, the paper's table, the command and the card."""

import json
import shutil

import numpy as np
import pytest

from convlstm import load_model
from convlstm.commands import radar_eval
from convlstm.core.model import EncoderForecaster
from convlstm.data import synthetic_radar
from convlstm.scoring import metrics
from convlstm.viz import plots

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _tiny_model(size=32):
    return EncoderForecaster(frame_size=size, patch_size=4, hidden_channels=[4], kernel_size=3,
                             context_frames=3, horizon=4, value_transform="dbz60", step_minutes=6).eval()


def test_evaluate_radar_scores_every_method_and_metric():
    sequences = synthetic_radar.radar(3, seed=0, frames=7, size=32)
    matched = _tiny_model()
    matched.probability_matching = True
    results = radar_eval.evaluate_radar(_tiny_model(), sequences, context=3, horizon=4, chunk=2,
                                     others={"matched": matched})
    assert results["sequences"] == 3 and list(results["methods"]) == [*radar_eval.METHODS, "matched"]
    assert results["methods"]["matched"] != results["methods"]["ConvLSTM"]
    for r in results["methods"].values():
        assert set(r["mean"]) == set(metrics.rain_score_names())
        assert all(len(v) == 4 for v in r["per_lead"].values())
    table = radar_eval.table_like_paper(results)
    assert "| ConvLSTM |" in table and "Rainfall-MSE" in table and "24 min" in table
    image = plots.csi_plot(results)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert (image != 255).any(axis=2).mean() > 0.01  # something is drawn


def test_evaluate_radar_refuses_a_model_of_gray_levels():
    gray = EncoderForecaster(frame_size=32, patch_size=4, hidden_channels=[4], kernel_size=3).eval()
    with pytest.raises(ValueError, match="dbz60"):
        radar_eval.evaluate_radar(gray, synthetic_radar.radar(1, seed=0, frames=7, size=32), context=3, horizon=4)


def test_the_command_and_the_card_score_the_bundled_model_both_ways(tmp_path):
    from convlstm.core.checkpoint import RADAR_CHECKPOINT
    from scripts.write_radar_card import main as write_card

    folder = tmp_path / "radar"
    shutil.copytree(RADAR_CHECKPOINT, folder, ignore=shutil.ignore_patterns("real_radar*"))
    radar_eval.main(["--model", str(folder), "--n", "4", "--chunk", "2", "--device", "cpu",
                  "--out", str(folder / "evaluation.json")])
    results = json.loads((folder / "evaluation.json").read_text())
    assert results["sequences"] == 4
    matching = load_model(folder).probability_matching
    toggled = f"ConvLSTM {'without' if matching else 'with'} probability matching"
    assert list(results["methods"]) == [*radar_eval.METHODS, toggled]
    write_card([str(folder)])
    card = (folder / "README.md").read_text()
    assert ("It is **on**" if matching else "It is **off**") in card and f"| {toggled} |" in card
