"""What controls a run: the device a process trains on, SIGTERM ending a run as its budget would, progress."""

import json
import os
import signal
import threading

import pytest
import torch

from convlstm.commands.run_control import ProgressBar, use_device
from convlstm.commands.train import parse_args, train
from convlstm.commands.train_config import TrainConfig
from tests.helpers import TINY_FLAGS


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
    cuda = StrictCuda(monkeypatch)
    if local_rank is None:
        monkeypatch.delenv("LOCAL_RANK", raising=False)
    else:
        monkeypatch.setenv("LOCAL_RANK", local_rank)
    assert use_device(name) == torch.device(expected)
    assert cuda.made_current == [torch.device(expected)]


def test_the_cpu_is_not_made_current(monkeypatch):
    cuda = StrictCuda(monkeypatch)
    assert use_device("cpu") == torch.device("cpu") and cuda.made_current == []


@pytest.mark.usefixtures("one_torch_thread")
def test_sigterm_ends_a_run_as_its_budget_would_and_clock_validations_come_on_time(tmp_path):
    """A GPU call stops the losing candidate with SIGTERM: the run validates, saves and returns as at the end
    of its budget. Both candidates validate when their clocks pass the same minute, to be compared there."""
    config = parse_args([*TINY_FLAGS, "--out", str(tmp_path), "--max-steps", "100000", "--eval-every", "100000",
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


def test_without_a_bar_progress_is_printed_as_plain_lines(capsys):
    bar = ProgressBar(TrainConfig(progress_bar=False))
    bar.set(0.25, "loss 0.1000")
    bar.close()
    assert capsys.readouterr().out == " 25.0%  loss 0.1000\n"
