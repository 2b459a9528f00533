"""The Moving MNIST evaluation: its command end to end, where its results go, what it refuses."""

import json

import numpy as np
import pytest

from convlstm.commands.evaluate import default_out, evaluate
from convlstm.commands.evaluate import main as evaluate_main
from convlstm.commands.train import make_model
from convlstm.commands.train_config import TrainConfig


@pytest.mark.slow
def test_evaluate_cli_writes_every_method_and_metric(tmp_path):
    make_model(TrainConfig(hidden_channels=[8], kernel_size=3)).save_pretrained(tmp_path / "model")
    out = tmp_path / "results" / "eval.json"
    evaluate_main(["--model", str(tmp_path / "model"), "--n", "6", "--out", str(out), "--device", "cpu"])
    results = json.loads(out.read_text())
    assert set(results["methods"]) == {"ConvLSTM", "persistence", "optical flow"}
    for method in results["methods"].values():
        assert set(method["mean"]) == {"mse", "mae", "ssim", "ssim_openstl", "psnr", "ce_per_sequence"}
        assert all(len(v) == 10 for v in method["per_lead"].values())
    assert results["sequences"] == 6
    table = out.with_suffix(".md").read_text()
    assert "| optical flow |" in table and "SSIM (OpenSTL)" in table


def test_results_go_beside_a_model_folder_and_nowhere_else(tmp_path):
    folder = str(tmp_path)
    assert default_out(folder, 2, None) == tmp_path / "evaluation.json"
    assert default_out(folder, 3, None) == tmp_path / "evaluation_3digits.json"
    assert default_out(folder, 2, "data/mnist_test_seq.npy") == tmp_path / "evaluation_mnist_test_seq.json"
    assert default_out(None, 2, None) is None  # the bundled checkpoint's files are not this run's
    assert default_out("someone/not-a-folder-here", 2, None) is None  # a Hub repo id


def test_sequences_too_short_for_the_horizon_are_refused(model):
    with pytest.raises(ValueError, match="sequences have 15 frames; need 10 \\+ 10"):
        evaluate(model, np.zeros((1, 15, 64, 64), np.float32), context=10, horizon=10)
