"""The training loop, its schedule and data, continued runs, DDP under torchrun, and the device, on tiny models."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from convlstm import EncoderForecaster, load_model
from convlstm.commands.train import (
    TrainConfig,
    make_data,
    make_model,
    make_stream,
    parse_args,
    teacher_forcing,
    train,
    validate,
    with_architecture_of,
)
from tests.helpers import TINY_CONFIG

REPO = Path(__file__).resolve().parents[2]


TINY = ["--hidden-channels", "8", "--kernel-size", "3", "--batch-size", "4", "--eval-sequences", "16",
        "--no-progress-bar", "--log-every", "5", "--warmup-steps", "5", "--lr", "1e-2"]


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
    config = parse_args([*TINY, "--out", str(tmp_path), "--max-steps", "60", "--eval-every", "30"])
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
         "-m", "convlstm.train", *TINY, "--device", "cpu", "--out", str(out), "--max-steps", "10",
         "--eval-every", "10"],
        env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if e["event"] == "train"] == [5, 10]  # one writer, no duplicates
    summary = json.loads((out / "best" / "training.json").read_text())
    assert summary["sequences"] == 10 * 4 * 2  # both ranks' batches counted
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp"]  # nothing written elsewhere


@pytest.mark.slow
def test_a_continued_run_records_the_runs_before_it(tmp_path, one_torch_thread):
    def run(out, *extra):
        return train(parse_args([*TINY, "--out", str(out), "--max-steps", "2", "--eval-every", "2", *extra]))

    run(tmp_path / "a")
    run(tmp_path / "b", "--init-from", str(tmp_path / "a" / "best"))
    run(tmp_path / "c", "--init-from", str(tmp_path / "b" / "best"))
    history = json.loads((tmp_path / "c" / "best" / "training.json").read_text())["earlier_runs"]
    assert [r["config"]["out"] for r in history] == [str(tmp_path / "a"), str(tmp_path / "b")]  # oldest first
    assert all(r["steps"] == 2 and "earlier_runs" not in r for r in history)


def test_validation_scores_the_networks_own_output_even_where_the_checkpoint_matches(one_torch_thread):
    config = parse_args(["--dataset", "radar", "--forecast-head", "advection", "--hidden-channels", "8",
                         "--eval-sequences", "4", "--probability-matching"])
    torch.manual_seed(0)
    matched = make_model(config)
    _, val = make_data(config, torch.device("cpu"), rank=0)
    plain = make_model(config)
    plain.load_state_dict(matched.state_dict())
    plain.probability_matching = False
    assert validate(matched, val, config) == validate(plain, val, config)
    assert matched.probability_matching  # the checkpoint keeps its own choice


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
def test_teacher_forcing_falls_from_its_start_to_zero():
    config = TrainConfig(autoregressive=True, teacher_forcing_start=0.3, teacher_forcing_until=0.5)
    assert [teacher_forcing(p, config) for p in (0, 0.25, 0.5, 0.9)] == pytest.approx([0.3, 0.15, 0, 0])
    assert teacher_forcing(0.1, TrainConfig(autoregressive=False)) == 0
    assert teacher_forcing(0.0, TrainConfig(autoregressive=True, teacher_forcing_until=0)) == 0
    with pytest.raises(ValueError, match="probability"):
        TrainConfig(teacher_forcing_start=1.5)


@pytest.mark.usefixtures("one_torch_thread")
def test_chunked_data_is_the_larger_batches_cut_up():
    config = TrainConfig(batch_size=3, data_chunk=4)
    chunked = make_stream(config, torch.device("cpu"))
    whole = make_stream(TrainConfig(batch_size=12), torch.device("cpu"))
    first = next(whole)
    torch.testing.assert_close(torch.cat([next(chunked) for _ in range(4)]), first, rtol=0, atol=0)
    assert next(chunked).shape == (3, 20, 64, 64)


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


class StrictCuda:
    """torch.cuda as torch 2.11 behaves on a GPU machine, for a CPU test: set_device refuses a
    device without an index (the call that stopped every GPU training stage)."""

    def __init__(self, monkeypatch, current: int = 0):
        self.made_current = []
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: current)
        monkeypatch.setattr(torch.cuda, "set_device", self.set_device)

    def set_device(self, device):
        if isinstance(device, torch.device) and device.index is None:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
        self.made_current.append(device)


@pytest.mark.parametrize(("name", "local_rank", "expected"), [
    ("cuda", None, "cuda:0"), ("auto", None, "cuda:0"), ("cuda:1", None, "cuda:1"),
    ("cuda", "1", "cuda:1"), ("auto", "1", "cuda:1"),  # under torchrun, each process its own GPU
])
def test_a_cuda_device_without_an_index_is_this_process_gpu(monkeypatch, name, local_rank, expected):
    from convlstm.commands.train import use_device

    cuda = StrictCuda(monkeypatch)
    if local_rank is None:
        monkeypatch.delenv("LOCAL_RANK", raising=False)
    else:
        monkeypatch.setenv("LOCAL_RANK", local_rank)
    assert use_device(name) == torch.device(expected)
    assert cuda.made_current == [torch.device(expected)]


def test_the_cpu_is_not_made_current(monkeypatch):
    from convlstm.commands.train import use_device

    cuda = StrictCuda(monkeypatch)
    assert use_device("cpu") == torch.device("cpu") and cuda.made_current == []


@pytest.mark.usefixtures("one_torch_thread")
def test_sigterm_ends_a_run_as_its_budget_would_and_clock_validations_come_on_time(tmp_path):
    """A GPU call stops the losing candidate with SIGTERM: the run validates, saves and returns as at the end
    of its budget. Both candidates validate when their clocks pass the same minute, to be compared there."""
    config = parse_args([*TINY, "--out", str(tmp_path), "--max-steps", "100000", "--eval-every", "100000",
                         "--eval-at-minutes", "0.02", "--log-every", "100000"])
    timer = threading.Timer(6.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        summary = train(config)
    finally:
        timer.cancel()
    evals = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    evals = [e for e in evals if e["event"] == "eval"]
    assert len(evals) == 2 and 0.02 <= evals[0]["minutes"] < evals[1]["minutes"]  # the clock's, then the last
    assert summary["steps"] == evals[1]["step"] > evals[0]["step"] > 0
    assert (tmp_path / "best" / "training.json").is_file()  # saved as a run that ran out of time is
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back
