"""The encoding-forecasting network of Shi et al. (2015), section 3.3."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from . import objects
from .advection import AdvectionHead
from .stack import ConvLSTM
from .values import scale_named

FORECAST_HEADS = ("pixels", "advection", "objects")
SEGMENTATIONS = ("learned", "blobs-first")


class EncoderForecaster(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="convlstm-nowcast",
    tags=["convlstm", "video-prediction", "precipitation-nowcasting", "moving-mnist"],
    license="mit",
):
    """Frames → patches → encoder ConvLSTM → forecaster ConvLSTM (started from the encoder's
    final states) → 1×1 convolution over all forecaster hidden states → frames.

    ``forward(frames, horizon)`` takes frames in [0, 1] of shape (B, T, C, H, W) with
    H = W = ``frame_size`` and returns logits (B, horizon, C, H, W); ``torch.sigmoid`` of
    them is the forecast. With ``autoregressive=False`` (the paper) the forecaster has no
    input; with ``True`` its first layer reads the previous frame: the last context frame,
    then its own prediction, or the true frame with probability ``teacher_forcing`` when
    ``targets`` are given (scheduled sampling, for training).

    ``forecast_head="pixels"`` is the paper's 1×1 convolution to the frame's pixels;
    ``"advection"`` moves the last input frame along a motion field the forecaster predicts, with
    learned smoothing and growth (``convlstm.core.advection``; ``max_speed`` in pixels per step).
    ``"objects"`` asks the ConvLSTM which of ``num_objects`` objects each context pixel belongs to
    (``owner_logits``: the forecaster, started from the encoder's final states, reads the context
    again and labels each frame knowing how everything moved), and draws the forecast explicitly
    from that (``convlstm.core.objects``: each object is followed, its path fitted and its patch
    redrawn along it), so digits stay as sharp as they came in. ``segmentation="blobs-first"``
    uses the learned labels only where no context frame shows the objects' ink apart.

    The input contract, recorded in ``config.json`` for callers (``convlstm.forecast`` applies
    it): ``context_frames`` and ``horizon`` are what the model was trained for (it accepts any
    number of input frames ≥ 1 and any horizon ≥ 1); ``value_transform`` names the scale of the
    values people pass in (``convlstm.core.values``; resolved once, as ``scale``): "unit", gray
    levels in [0, 1], the default of checkpoints that don't record one; "dbz60", rain rates in
    mm/h. ``step_minutes`` is the time between frames, None where frames have no clock time
    (Moving MNIST); ``probability_matching`` asks ``convlstm.forecast`` to give every forecast
    frame the last input frame's distribution of values (``probability_matched``), as the field's
    extrapolation nowcasts do.

    ``context_logits=True`` also returns the next-frame predictions over the context, the head on the
    encoder's states after frames 1..T-1: logits (B, T-1 + horizon, C, H, W) for frames 2..T+horizon,
    so that training can supervise every next frame, the context's too (pixel head only: the advection
    head moves the last context frame, which the encoder has not read at the earlier steps).
    """

    def __init__(
        self,
        image_channels: int = 1,
        frame_size: int = 64,
        patch_size: int = 4,
        hidden_channels: list[int] | tuple[int, ...] = (128, 64, 64),
        kernel_size: int = 5,
        peephole: str = "spatial",
        autoregressive: bool = False,
        context_frames: int = 10,
        horizon: int = 10,
        value_transform: str = "unit",
        step_minutes: float | None = None,
        forecast_head: str = "pixels",
        max_speed: float = 4.0,
        probability_matching: bool = False,
        num_objects: int = 2,
        segmentation: str = "learned",
    ):
        super().__init__()
        if forecast_head not in FORECAST_HEADS:
            raise ValueError(f"forecast_head must be one of {FORECAST_HEADS}, got {forecast_head!r}")
        if segmentation not in SEGMENTATIONS:
            raise ValueError(f"segmentation must be one of {SEGMENTATIONS}, got {segmentation!r}")
        if num_objects < 1:
            raise ValueError(f"num_objects must be at least 1, got {num_objects}")
        self.scale = scale_named(value_transform)  # resolved once, at load time (a clear error for an unknown name)
        if patch_size < 1 or frame_size % patch_size:
            raise ValueError(f"frame_size {frame_size} must be a multiple of patch_size {patch_size}")
        hidden_channels = [int(c) for c in hidden_channels]  # JSON lists, not tuples, in config.json
        self.image_channels = image_channels
        self.frame_size = frame_size
        self.patch_size = patch_size
        self.hidden_channels = hidden_channels
        self.autoregressive = autoregressive
        self.context_frames = context_frames
        self.horizon = horizon
        self.value_transform = value_transform
        self.step_minutes = step_minutes
        self.forecast_head = forecast_head
        self.probability_matching = probability_matching
        self.num_objects = num_objects
        self.segmentation = segmentation

        patch_channels = image_channels * patch_size**2
        grid = (frame_size // patch_size,) * 2
        self.encoder = ConvLSTM(patch_channels, hidden_channels, kernel_size, peephole, grid)
        # The objects head's forecaster reads the context frames again, to label them.
        reads = autoregressive or forecast_head == "objects"
        self.forecaster = ConvLSTM(patch_channels if reads else 0, hidden_channels, kernel_size, peephole, grid)
        if forecast_head == "pixels":
            self.head = nn.Conv2d(sum(hidden_channels), patch_channels, kernel_size=1)
        elif forecast_head == "objects":  # per pixel of the patch, a logit for each object
            self.head = nn.Conv2d(sum(hidden_channels), num_objects * patch_size**2, kernel_size=1)
        else:
            self.head = AdvectionHead(sum(hidden_channels), image_channels, patch_size, max_speed)

    @classmethod
    def fc_lstm(cls, frame_size: int = 64, hidden_channels=(2048, 2048, 2048), **kwargs) -> EncoderForecaster:
        """The paper's FC-LSTM baseline: the same network on a 1×1 grid (one patch per frame)."""
        return cls(frame_size=frame_size, patch_size=frame_size, hidden_channels=hidden_channels,
                   kernel_size=1, **kwargs)

    @classmethod
    def _from_pretrained(cls, *, strict: bool = True, **kwargs):
        # The mixin's default is strict=False, which silently ignores missing or extra weights.
        return super()._from_pretrained(strict=strict, **kwargs)

    def forward(
        self,
        frames: torch.Tensor,
        horizon: int,
        targets: torch.Tensor | None = None,
        teacher_forcing: float | torch.Tensor = 0.0,
        context_logits: bool = False,
    ) -> torch.Tensor:
        self._check(frames, horizon)
        if self.forecast_head == "objects":
            return self._draw_objects(frames, int(horizon))
        if context_logits and self.forecast_head != "pixels":
            raise ValueError("context_logits needs the pixel head: the advection head moves the last context "
                             "frame, which the encoder has not read at the earlier steps")
        B, T, C, H, W = frames.shape
        p = self.patch_size
        x = F.pixel_unshuffle(frames.flatten(0, 1), p).unflatten(0, (B, T))  # (B, T, C·p², H/p, W/p)

        states = self.encoder.initial_states(B, x.shape[-2:], x)
        seen = []  # with context_logits: the head's next-frame predictions over the context, frames 2..T
        for t in range(T):
            states = self.encoder.step(x[:, t], states)
            if context_logits and t < T - 1:
                seen.append(self.head(torch.cat([h for h, _ in states], dim=1)))

        use_truth = None
        # teacher_forcing may be a 0-d device tensor (a CUDA-graphed training step): then always draw,
        # as asking "> 0" would wait for the device.
        if self.autoregressive and targets is not None and (torch.is_tensor(teacher_forcing) or teacher_forcing > 0):
            truth = F.pixel_unshuffle(targets.flatten(0, 1), p).unflatten(0, (B, -1))  # (B, horizon, C·p², h, w)
            use_truth = torch.rand(B, horizon, 1, 1, 1, device=frames.device) < teacher_forcing

        previous = x[:, -1]  # (B, C·p², h, w)
        moving = self.head.start(frames[:, -1]) if self.forecast_head == "advection" else None
        logits = []
        for k in range(horizon):
            states = self.forecaster.step(previous if self.autoregressive else None, states)
            hidden = torch.cat([h for h, _ in states], dim=1)  # (B, Σ hidden, h, w)
            if moving is None:
                out = self.head(hidden)  # (B, C·p², h, w)
            else:  # the last frame moved, blurred and grown: (B, C, H, W) in [0, 1] → patch logits
                out = torch.logit(F.pixel_unshuffle(self.head(hidden, moving), p), eps=1e-6)
            logits.append(out)
            if self.autoregressive:
                previous = torch.sigmoid(out)
                if use_truth is not None:
                    previous = torch.where(use_truth[:, k], truth[:, k], previous)
        logits = torch.stack(seen + logits, dim=1)  # (B, [T-1 +] horizon, C·p², h, w)
        return F.pixel_shuffle(logits.flatten(0, 1), p).unflatten(0, (B, -1))  # (B, [T-1 +] horizon, C, H, W)

    def owner_logits(self, frames: torch.Tensor) -> torch.Tensor:
        """Objects head: logits (B, T, num_objects, H, W) of which object each pixel of each context
        frame (B, T, C, H, W) belongs to (meaningful where there is ink). Which object is which is
        arbitrary: training scores the labels under their best matching of objects."""
        B, T, C, H, W = frames.shape
        p = self.patch_size
        x = F.pixel_unshuffle(frames.flatten(0, 1), p).unflatten(0, (B, T))  # (B, T, C·p², H/p, W/p)
        states = self.encoder.initial_states(B, x.shape[-2:], x)
        for t in range(T):
            states = self.encoder.step(x[:, t], states)
        labels = []
        for t in range(T):  # the second reading, knowing the whole context
            states = self.forecaster.step(x[:, t], states)
            labels.append(self.head(torch.cat([h for h, _ in states], dim=1)))  # (B, K·p², h, w)
        logits = torch.stack(labels, dim=1).flatten(0, 1)
        return F.pixel_shuffle(logits, p).unflatten(0, (B, T))  # (B, T, K, H, W)

    def _draw_objects(self, frames: torch.Tensor, horizon: int) -> torch.Tensor:
        """The objects head's forecast as logits (B, horizon, C, H, W), drawn from the learned labels."""
        if frames.shape[2] != 1:
            raise ValueError("the objects head draws gray frames (one channel)")
        owners = self.owner_logits(frames).argmax(2) + 1  # (B, T, H, W): 1..K
        gray = frames[:, :, 0].float().cpu().numpy()
        # Blobs first: more digits than trained on are followed where more digit-sized blobs are seen apart.
        blobs_first = self.segmentation == "blobs-first"
        drawn = objects.forecast_objects(gray, horizon, self.num_objects, owners=owners.cpu().numpy(),
                                         blobs_first=blobs_first, count_more=blobs_first)
        drawn = torch.from_numpy(drawn).to(frames.device, frames.dtype)[:, :, None]
        return torch.logit(drawn, eps=1e-6)

    def _check(self, frames: torch.Tensor, horizon: int) -> None:
        if frames.dim() != 5:
            raise ValueError(f"frames must be (B, T, C, H, W), got shape {tuple(frames.shape)}")
        _, T, C, H, W = frames.shape
        if C != self.image_channels or H != self.frame_size or W != self.frame_size:
            raise ValueError(f"this model takes {self.image_channels}×{self.frame_size}×{self.frame_size} "
                             f"frames, got {C}×{H}×{W}; convlstm.forecast resizes frames for you")
        if T < 1:
            raise ValueError("need at least one input frame")
        if int(horizon) != horizon or horizon < 1:
            raise ValueError(f"horizon must be a whole number ≥ 1, got {horizon}")

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
