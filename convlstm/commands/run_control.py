"""What controls a training run from outside its loop: the device it runs on, SIGTERM ending it as its
budget would, and the progress bar it reports to."""

from __future__ import annotations

import os
import signal
import threading

import torch

from .train_config import TrainConfig


def use_device(name: str) -> torch.device:
    """The device a process trains on, made current: "auto" is this process's GPU (LOCAL_RANK under
    torchrun) or the CPU; a CUDA device without an index ("cuda") is this process's GPU too, since
    torch.cuda.set_device refuses a device without an index on some torch versions (2.11 does)."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type != "cuda":
        return device
    if device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", torch.cuda.current_device())))
    torch.cuda.set_device(device)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    return device


class StopOnSigterm:
    """SIGTERM (a scheduler, a container stopping, a GPU call ending one of two runs) ends training as the
    end of its budget would: ``requested`` turns True, the loop validates, checkpoints and returns.
    Signal handlers can only be set from the main thread; elsewhere SIGTERM keeps its usual effect."""

    def __init__(self):
        self.requested = False
        in_main = threading.current_thread() is threading.main_thread()
        self.previous = signal.signal(signal.SIGTERM, self._request) if in_main else None

    def _request(self, signum, frame) -> None:
        self.requested = True

    def __enter__(self) -> StopOnSigterm:
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


class ProgressBar:
    """tqdm (shipped with huggingface_hub) over training progress in per-mille."""

    def __init__(self, config: TrainConfig):
        from tqdm.auto import tqdm

        self.plain = not config.progress_bar
        self.bar = tqdm(total=1000, disable=self.plain, unit="‰", dynamic_ncols=True)

    def set(self, progress: float, text: str) -> None:
        if self.plain:
            print(f"{progress:6.1%}  {text}", flush=True)
            return
        self.bar.n = min(1000, int(progress * 1000))
        self.bar.set_postfix_str(text, refresh=True)

    def write(self, text: str) -> None:
        self.bar.write(text)

    def close(self) -> None:
        self.bar.close()
