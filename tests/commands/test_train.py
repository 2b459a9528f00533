"""The training command and its loop on tiny models: the command line, learning, DDP under torchrun,
what cannot be combined, continued runs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from convlstm import EncoderForecaster, load_model
from convlstm.commands.train import make_model, parse_args, train, with_architecture_of
from convlstm.commands.train_config import TrainConfig
from convlstm.commands.train_data import make_data
from convlstm.commands.validation import validate
from tests.helpers import TINY_CONFIG, TINY_FLAGS

REPO = Path(__file__).resolve().parents[2]


def test_cli_flags_build_the_config():
    config = parse_args(["--hidden-channels", "32", "16", "--autoregressive", "--max-minutes", "2", "--loss", "mse"])
    assert config.hidden_channels == [32, 16] and config.autoregressive and config.max_minutes == 2.0
    assert isinstance(config, TrainConfig) and config.loss == "mse"
    config = parse_args(["--dataset", "radar", "--forecast-head", "advection", "--probability-matching",
                         "--max-speed", "6"])
    model = make_model(config)
    assert model.forecast_head == "advection" and model.probability_matching and model.value_transform == "dbz60"
    assert model.head.max_speed == 6.0 and model._hub_mixin_config["max_speed"] == 6.0  # saved in config.json
    with pytest.raises(SystemExit):
        parse_args(["--forecast-head", "teleport"])


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")  # two threads on this 2-core machine: ~2 min instead of ~15 s
def test_a_tiny_model_learns_and_its_checkpoint_reproduces_its_metrics(tmp_path):
    config = parse_args([*TINY_FLAGS, "--out", str(tmp_path), "--max-steps", "60", "--eval-every", "30"])
    torch.manual_seed(config.seed)
    untrained = make_model(config)
    _, val = make_data(config, torch.device("cpu"), rank=0)
    before = validate(untrained, val, config)["val_mse"]

    summary = train(config)
    after = summary["best"]["val_mse"]
    assert after < 0.8 * before, (before, after)

    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    losses = [e["loss"] for e in log if e["event"] == "train"]
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3])

    reloaded = load_model(tmp_path / "best", device="cpu")
    recorded = json.loads((tmp_path / "best" / "training.json").read_text())
    assert recorded["best"] == summary["best"] and recorded["steps"] == 60 and recorded["device"].startswith("CPU")
    assert validate(reloaded, val, config)["val_mse"] == pytest.approx(recorded["best"]["val_mse"], rel=1e-5)


@pytest.mark.slow
def test_torchrun_with_gloo_trains_on_two_processes_and_only_rank_0_writes(tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",  # a free port
         "-m", "convlstm.train", *TINY_FLAGS, "--device", "cpu", "--out", str(out), "--max-steps", "10",
         "--eval-every", "10"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if e["event"] == "train"] == [5, 10]  # one writer, no duplicates
    summary = json.loads((out / "best" / "training.json").read_text())
    assert summary["sequences"] == 10 * 4 * 2  # both ranks' batches counted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp"]  # nothing written elsewhere


@pytest.mark.usefixtures("one_torch_thread")
def test_options_that_cannot_be_combined_with_a_graph_are_refused(monkeypatch, tmp_path):
    with pytest.raises(ValueError, match="--compile gates"):
        parse_args(["--cuda-graph", "--compile", "model"])
    with pytest.raises(ValueError, match="needs a CUDA device"):
        parse_args(["--cuda-graph", "--device", "cpu"])
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="one process"):
        train(TrainConfig(**TINY_CONFIG, out=str(tmp_path), cuda_graph=True))


@pytest.mark.usefixtures("one_torch_thread")
def test_a_continued_run_records_the_checkpoints_architecture(tmp_path):
    model = EncoderForecaster(hidden_channels=[8], kernel_size=3, peephole="none", autoregressive=True)
    config = with_architecture_of(TrainConfig(), model)
    assert (config.hidden_channels, config.kernel_size, config.peephole, config.autoregressive) == \
        ([8], 3, "none", True)


@pytest.mark.usefixtures("one_torch_thread")
def test_a_continued_run_is_validated_before_its_first_step(tmp_path):
    model = EncoderForecaster(hidden_channels=[8], kernel_size=3, peephole="channel", autoregressive=True)
    model.save_pretrained(tmp_path / "start")
    out = tmp_path / "run"
    train(TrainConfig(**{**TINY_CONFIG, "max_steps": 2, "eval_every": 1000}, init_from=str(tmp_path / "start"),
                      out=str(out)))
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if e["event"] == "eval"] == [0, 2]
    recorded = json.loads((out / "best" / "training.json").read_text())["config"]
    assert recorded["hidden_channels"] == [8] and recorded["autoregressive"]
