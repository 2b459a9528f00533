"""What a training run is: ``TrainConfig``, whose fields are the command line's flags.

Every field carries its flag's help (and argparse extras such as ``choices``) in its metadata, so
the config and the CLI can't drift apart (``convlstm.commands.train.parse_args`` builds the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.cell import PEEPHOLE_MODES
from ..core.model import FORECAST_HEADS
from ..data import mnist, synthetic_radar
from .losses import LOSSES

DATASETS = ("moving-mnist", "radar")


def _flag(default, help: str, **argparse):
    """A TrainConfig field and its command-line flag: the flag's help and argparse extras ride in the metadata."""
    factory = {"default_factory": lambda: list(default)} if isinstance(default, list) else {"default": default}
    return field(**factory, metadata={"help": help, **argparse})


@dataclass
class TrainConfig:
    out: str = _flag("runs/moving-mnist", "output folder: best/ checkpoint (weights, config, training.json), log.jsonl")
    dataset: str = _flag("moving-mnist", "what to train on", choices=DATASETS)
    # model
    hidden_channels: list[int] = _flag([128, 64, 64], "hidden channels per ConvLSTM layer, e.g. 128 64 64")
    kernel_size: int = _flag(5, "odd convolution kernel size")
    patch_size: int = _flag(4, "space-to-depth patch size")
    peephole: str = _flag("spatial", "peephole weights: per location (paper), per channel, or none",
                          choices=PEEPHOLE_MODES)
    autoregressive: bool = _flag(False, "the forecaster reads its previous prediction (with scheduled sampling)")
    forecast_head: str = _flag("pixels", "the paper's 1×1 convolution to pixels, or moving the last frame along "
                               "a predicted motion field (convlstm.advection)", choices=FORECAST_HEADS)
    max_speed: float = _flag(4.0, "advection head: the fastest motion it can predict, px per step")
    probability_matching: bool = _flag(False, "forecasts take the last input frame's distribution of values "
                                       "(at inference; recorded in config.json)")
    context_frames: int | None = _flag(None, "input frames per sequence (default: the dataset's, 10 or 5)")
    horizon: int | None = _flag(None, "frames to predict (default: the dataset's, 10 or 15)")
    init_from: str | None = _flag(None, "start from this checkpoint (folder or Hub id); its architecture wins")
    # data
    num_digits: int = _flag(2, "digits per Moving MNIST sequence")
    # optimisation
    loss: str = _flag("bce", "per-pixel binary cross-entropy on logits (paper) or MSE on probabilities",
                      choices=LOSSES)
    supervise_context: bool = _flag(False, "also supervise the encoder's next-frame predictions of context frames "
                                           "2..T through the same head, as OpenSTL's loss over all 19 next frames "
                                           "(pixel head; one more 1×1 head call per context frame; it learns faster "
                                           "per step: BENCHMARKS.md, Learning per step)")
    lr: float = _flag(1e-3, "peak learning rate (AdamW)")
    weight_decay: float = _flag(0.0, "AdamW weight decay")
    batch_size: int = _flag(16, "sequences per step per process")
    max_steps: int = _flag(20_000, "stop after this many steps")
    max_minutes: float | None = _flag(None, "stop after this many minutes of training; the schedule is sized to it")
    warmup_steps: int = _flag(100, "linear learning-rate warm-up")
    min_lr_ratio: float = _flag(0.02, "final lr as a fraction of --lr")
    grad_clip: float = _flag(1.0, "clip the gradient norm to this")
    teacher_forcing_start: float = _flag(1.0, "autoregressive only: the probability of feeding the true frame "
                                              "instead of the model's own prediction at the start of training "
                                              "(continuing a model that already feeds itself: start low)")
    teacher_forcing_until: float = _flag(0.5, "autoregressive only: that probability falls linearly to 0 by this "
                                              "fraction of training")
    # evaluation and logging
    eval_every: int = _flag(500, "validate every this many steps")
    eval_at_minutes: list[float] = _flag([], "also validate when the run's clock passes each of these minutes, so "
                                             "that runs started together can be compared at the same wall time")
    eval_sequences: int = _flag(500, "validation sequences (fixed validation split)")
    select_by: str = _flag("val_mse", "the validation score that picks the best checkpoint: MSE/frame, or the "
                                      "training loss (--loss) itself", choices=("val_mse", "val_loss"))
    log_every: int = _flag(25, "log every this many steps")
    seed: int = _flag(0, "seed for weights and the data stream")
    data_chunk: int = _flag(1, "generate this many batches per call of the data generator (one large call "
                               "instead of many small ones: the radar generator is launch-bound on a GPU)")
    # speed
    device: str = _flag("auto", "'auto', 'cpu', 'cuda', 'cuda:1', ...")
    bf16: bool = _flag(True, "bf16 autocast on CUDA")
    compile: str = _flag("none", "torch.compile the cells' pointwise gate math (fast to compile), or the whole model",
                         choices=("none", "gates", "model"))
    channels_last: bool = _flag(False, "channels_last memory format (CUDA)")
    cuda_graph: bool = _flag(False, "capture the whole training step in a CUDA graph and replay it (CUDA, one "
                                    "process; for small batches, where eager steps are launch-bound)")
    save_dtype: str = _flag("float32", "dtype of the saved weights (float16 halves the file)",
                            choices=("float32", "float16"))
    progress_bar: bool = _flag(True, "a tqdm progress bar (else plain log lines)")

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.dataset == "radar":
            default_context, default_horizon = synthetic_radar.CONTEXT, synthetic_radar.HORIZON
        else:
            default_context, default_horizon = mnist.CONTEXT, mnist.HORIZON
        self.context_frames = self.context_frames or default_context
        self.horizon = self.horizon or default_horizon
        if not 0 <= self.teacher_forcing_start <= 1:
            raise ValueError(f"teacher_forcing_start is a probability, got {self.teacher_forcing_start}")
        if self.forecast_head == "objects":
            raise ValueError("the objects head draws its forecast, which no frame loss can train: train its labels "
                             "with python -m convlstm.commands.train_objects")
        if self.supervise_context and self.forecast_head != "pixels":
            raise ValueError("--supervise-context predicts context frames through the pixel head; the advection "
                             "head moves the last context frame, which the encoder has not read at those steps")
        if self.data_chunk < 1:
            raise ValueError(f"data_chunk must be at least 1, got {self.data_chunk}")
        if self.cuda_graph and self.compile == "model":
            raise ValueError("--cuda-graph captures the step around the model's own code: combine it with "
                             "--compile gates (fused gate kernels inside the graph) or none, not --compile model")
        if self.cuda_graph and self.device == "cpu":
            raise ValueError("--cuda-graph needs a CUDA device (--device cuda or auto on a GPU machine)")
