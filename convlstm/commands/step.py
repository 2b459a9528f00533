"""The training step, defined once, run eagerly or captured in a CUDA graph.

At batch 16 a step of the paper-size model launches a few thousand small kernels (a dozen
pointwise ones per cell and time step, forward and backward) and the GPU waits on the CPU
that launches them. Capturing the whole step in a CUDA graph and replaying it launches them
all with one call.

``training_step`` is the step: forward over the frames (scheduled-sampling draws on the
device), loss, backward, gradient clipping and the optimizer update, with no host
synchronisation anywhere, so that it can be captured. Both paths of ``convlstm.train`` call it:

- ``EagerStep``, the reference: ``EncoderForecaster.forward`` (through DDP when distributed)
  with the learning rate and teacher-forcing probability as Python floats.
- ``GraphedStep``: the same function on static tensors (the batch, and the learning rate and
  teacher-forcing probability as 0-d device tensors filled in place before each call),
  captured at the first call and replayed after. ``EncoderForecaster.forward`` takes the
  probability as a tensor too, and then never asks the device for it.

Only ``capture`` needs CUDA. Everything else runs on the CPU, where ``GraphedStep(...,
capture=False)`` runs the step eagerly on the same static tensors (the tests check that it
trains exactly as the plain loop does).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..core.model import EncoderForecaster
from .losses import loss_fn


def training_step(forward: Callable, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                  batch: torch.Tensor, teacher_forcing: float | torch.Tensor, config, bf16: bool) -> torch.Tensor:
    """One optimisation step on ``batch`` (B, context + horizon, H, W) in [0, 1]; returns the loss
    as a device tensor (reading it is the caller's choice of when to synchronise).

    ``forward(context, horizon, targets=, teacher_forcing=, context_logits=)`` is the model's
    forward (or DDP's) itself; ``config`` is a ``TrainConfig`` (context_frames, horizon, loss,
    supervise_context, grad_clip, channels_last). With ``supervise_context`` the loss is the mean
    over every next-frame prediction, frames 2..context+horizon, as OpenSTL's. Gradients are set
    to None first, so inside a capture the backward writes fresh gradient buffers that every
    replay overwrites."""
    frames = batch[:, :, None]  # (B, T, 1, H, W)
    context = frames[:, :config.context_frames]
    targets = frames[:, config.context_frames:config.context_frames + config.horizon]
    if config.channels_last:
        context = context.contiguous()
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(batch.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = forward(context, config.horizon, targets=targets, teacher_forcing=teacher_forcing,
                         context_logits=config.supervise_context)
    if config.supervise_context:  # logits for frames 2..T+horizon: the context's next frames, then the forecast
        targets = frames[:, 1:config.context_frames + config.horizon]
    loss = loss_fn(logits, targets, config.loss)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)  # on the device: no sync
    optimizer.step()
    return loss.detach()


def make_optimizer(model: torch.nn.Module, config, device: torch.device, *, graphed: bool) -> torch.optim.AdamW:
    """AdamW for the eager loop (fused on CUDA, a float learning rate) or for a graphed step: the
    learning rate a 0-d tensor on the device that ``GraphedStep`` fills in place; on CUDA
    ``capturable=True`` (step counts and bias corrections on the device). Capturable is CUDA-only
    in PyTorch, so on the CPU the graphed step's optimizer is the plain single-tensor AdamW with
    the tensor learning rate: the same update, run eagerly."""
    common = dict(weight_decay=config.weight_decay)
    if not graphed:
        return torch.optim.AdamW(model.parameters(), lr=config.lr, fused=device.type == "cuda", **common)
    lr = torch.tensor(float(config.lr), device=device)
    if device.type == "cuda":
        return torch.optim.AdamW(model.parameters(), lr=lr, foreach=True, capturable=True, **common)
    return torch.optim.AdamW(model.parameters(), lr=lr, foreach=False, **common)


class EagerStep:
    """The reference step: ``training_step`` through ``forward`` (the model, or its DDP wrapper)
    with Python-float learning rate and teacher forcing. ``step(batch, lr, teacher)`` → loss."""

    def __init__(self, forward: Callable, model: torch.nn.Module, optimizer: torch.optim.Optimizer, config,
                 *, bf16: bool):
        self.forward, self.model, self.optimizer, self.config, self.bf16 = forward, model, optimizer, config, bf16

    def __call__(self, batch: torch.Tensor, lr: float, teacher: float) -> torch.Tensor:
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return training_step(self.forward, self.model, self.optimizer, batch, teacher, self.config, self.bf16)


class GraphedStep:
    """``training_step`` on static tensors, captured in a CUDA graph at the first call and replayed
    after; ``step(batch, lr, teacher)`` → the loss tensor (overwritten by the next call).

    Each call fills the learning-rate and teacher-forcing tensors in place and copies ``batch``
    into the static input, all on the current stream, then replays. The capture's warm-up steps
    (on a side stream, as PyTorch's whole-network capture recipe has it) really update the
    weights and the optimizer state; both are put back afterwards, in place, so the first replay
    is the first step. ``capture=False`` runs the same function eagerly on the same tensors.
    """

    def __init__(self, model: EncoderForecaster, optimizer: torch.optim.Optimizer, config, *, bf16: bool,
                 capture: bool = True, warmup: int = 3):
        lrs = [group["lr"] for group in optimizer.param_groups]
        if not all(torch.is_tensor(lr) for lr in lrs) or len({id(lr) for lr in lrs}) != 1:
            raise ValueError("a graphed step needs one tensor learning rate: make the optimizer with "
                             "make_optimizer(..., graphed=True)")
        self.model, self.optimizer, self.warmup, self.capture = model, optimizer, warmup, capture
        self.lr = lrs[0]
        self.teacher = torch.zeros((), device=self.lr.device)
        self.batch: torch.Tensor | None = None
        self.graph = None
        self.loss: torch.Tensor | None = None
        self._step = lambda: training_step(model, model, optimizer, self.batch, self.teacher, config, bf16)

    def __call__(self, batch: torch.Tensor, lr: float, teacher: float) -> torch.Tensor:
        self.lr.fill_(lr)
        self.teacher.fill_(teacher)
        if self.batch is None:
            self.batch = batch.clone()
            if self.capture:
                saved = _snapshot(self.model, self.optimizer)
                self.graph, self.loss = capture(self._step, self.warmup)
                _restore(self.model, self.optimizer, saved)
        else:
            self.batch.copy_(batch)
        if self.graph is None:
            self.loss = self._step()
        else:
            self.graph.replay()
        return self.loss


def capture(fn: Callable[[], torch.Tensor], warmup: int = 3):
    """Run ``fn`` ``warmup`` times on a side stream (cuDNN autotuning, torch.compile, the
    optimizer's lazy state), then capture one call in a CUDA graph: (graph, fn's output)."""
    if not torch.cuda.is_available():
        raise RuntimeError("--cuda-graph captures the training step in a CUDA graph: it needs a CUDA GPU")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()
    return graph, out


def _snapshot(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    return {"params": [p.detach().clone() for p in model.parameters()],
            "state": {id(t): t.clone() for s in optimizer.state.values() for t in s.values() if torch.is_tensor(t)}}


@torch.no_grad()
def _restore(model: torch.nn.Module, optimizer: torch.optim.Optimizer, saved: dict) -> None:
    """Undo the warm-up in place (the graph holds these very tensors): the weights as they were,
    optimizer state that existed as it was, state the warm-up created (Adam's moments and step
    count of a fresh optimizer) back to the zeros a fresh optimizer starts from."""
    for p, before in zip(model.parameters(), saved["params"], strict=True):
        p.copy_(before)
    for state in optimizer.state.values():
        for t in state.values():
            if not torch.is_tensor(t):
                continue
            if id(t) in saved["state"]:
                t.copy_(saved["state"][id(t)])
            else:
                t.zero_()
