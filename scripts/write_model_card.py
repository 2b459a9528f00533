"""Write a Moving MNIST checkpoint's model card (README.md) and picture from its recorded results.

    python -m convlstm.train --out runs/mnist ...                  # writes runs/mnist/best/training.json
    python -m convlstm.evaluate --model runs/mnist/best            # writes runs/mnist/best/evaluation.json
    python -m scripts.write_model_card runs/mnist/best             # writes README.md and predictions.png there

Reads config.json, training.json (the run's config and summary, as the train command writes it:
convlstm.commands.run_record) and evaluation.json (as evaluate writes it), optionally evaluation_3digits.json; renders
predictions.png from the fixed test set. Every figure in the card comes from those files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from convlstm import forecast, load_model
from convlstm.commands.evaluate import markdown_table
from convlstm.data import evaluation_set
from convlstm.scoring import baselines
from convlstm.scoring.compare import lead_label
from convlstm.viz import render

PICTURE_SEQUENCES = (0, 1, 2)
LOSS_NAMES = {"bce": "per-pixel binary cross-entropy on logits", "mse": "MSE on sigmoid outputs"}


def picture(model, folder: Path) -> Path:
    context, horizon = model.context_frames, model.horizon
    sequences = evaluation_set("test", n=max(PICTURE_SEQUENCES) + 1)
    rows = []
    for i in PICTURE_SEQUENCES:
        past, truth = sequences[i, :context], sequences[i, context:context + horizon]
        rows += [
            render.Row(f"#{i} input -{context - 1}..0", past),
            render.Row("truth", truth),
            render.Row("ConvLSTM", forecast(model, past, horizon)),
            render.Row("optical flow", baselines.optical_flow(past, horizon)),
        ]
    image = render.frame_grid(rows, column_labels=[lead_label(k) for k in range(1, max(context, horizon) + 1)], scale=2,
                              title=f"Test set (held-out digits): {context} frames in, {horizon} predicted")
    return render.save_png(image, folder / "predictions.png")


def card(folder: Path) -> str:
    config = json.loads((folder / "config.json").read_text())
    training = json.loads((folder / "training.json").read_text())
    evaluation = json.loads((folder / "evaluation.json").read_text())
    three = folder / "evaluation_3digits.json"
    model = load_model(folder, device="cpu")
    params = model.num_parameters()
    size_mb = (folder / "model.safetensors").stat().st_size / 1e6
    t = training["config"]
    ours = evaluation["methods"]["ConvLSTM"]["mean"]
    forecaster = ("autoregressive: its first layer reads the previous frame (its own prediction at test time, "
                  "the true frame in part during training: see Training)" if config["autoregressive"]
                  else "no input, as in the paper")
    if model.forecast_head == "advection":
        title, head = ("# ConvLSTM encoder–forecaster with an advection head, for Moving MNIST",
                       "the advection head (`convlstm/advection.py`): from all forecaster hidden states, at each lead "
                       f"time a motion field (at most {model.head.max_speed:g} px/frame), weights over the last input "
                       "frame blurred at four scales and a growth field; the last input frame is moved along the "
                       "motion (semi-Lagrangian, one interpolation per lead time)")
    else:
        title, head = ("# ConvLSTM encoder–forecaster for Moving MNIST",
                       "a 1×1 convolution over all forecaster hidden states; depth-to-space")
    picture(model, folder)
    lines = [
        "---", "library_name: convlstm-nowcast", "license: mit",
        "tags: [convlstm, video-prediction, moving-mnist, precipitation-nowcasting, pytorch_model_hub_mixin]",
        "---", "",
        title,
        "",
        "The Convolutional LSTM of Shi et al. (NeurIPS 2015) as implemented by "
        f"ConvLSTM Nowcast (the `convlstm` package): {config['context_frames']} frames of 64×64 Moving MNIST in, "
        f"{config['horizon']} predicted. "
        "Load it with `convlstm.load_model(<this folder or repo id>)` and forecast numpy frames with "
        "`convlstm.forecast(model, frames, horizon)`.",
        "",
        "## Architecture",
        f"- Frames cut into {config['patch_size']}×{config['patch_size']} patches "
        f"({config['frame_size'] // config['patch_size']}×{config['frame_size'] // config['patch_size']} grid, "
        f"{config['patch_size'] ** 2} channels); encoder ConvLSTM {config['hidden_channels']} with "
        f"{config['kernel_size']}×{config['kernel_size']} kernels; a forecaster of the same shape starting from "
        f"the encoder's final states; {head}.",
        f"- Peepholes: {config['peephole']}; forecaster: {forecaster}.",
        f"- {params:,} parameters; `model.safetensors` {size_mb:.1f} MB "
        f"({'float16' if t['save_dtype'] == 'float16' else 'float32'} on disk, loaded as float32).",
        "",
        "## Training",
        "- Data: Moving MNIST generated on the fly from the 3,500 *train* digits (2 digits, 2–5 px/frame); "
        "validation and test sets use disjoint digit banks (see `convlstm/data/assets/DIGITS.md`).",
        *_runs(training),
        "",
        f"## Test results ({evaluation['sequences']:,} sequences from held-out digits, "
        f"{evaluation['context']} → {evaluation['horizon']}, {_arithmetic(evaluation)})",
        "",
        "MSE and MAE per frame summed over the 64×64 pixels (OpenSTL units); CE = the paper's cross-entropy "
        "per sequence (Shi et al. report 3670.85 for their best ConvLSTM).",
        "",
        markdown_table(evaluation),
        "",
    ]
    if three.exists():
        m = json.loads(three.read_text())["methods"]["ConvLSTM"]["mean"]
        n = json.loads(three.read_text())["sequences"]
        lines += [f"Generalization to **3 digits** (trained on 2; {n:,} test sequences): MSE/frame "
                  f"{m['mse']:.1f}, SSIM {m['ssim']:.3f}, CE/sequence {m['ce_per_sequence']:.0f}.", ""]
    lines += [
        "![predictions beside the truth](predictions.png)", "",
        "## Limitations",
        f"- MSE/frame {ours['mse']:.1f}, against ≈ 30 for ConvLSTM after 200 epochs (OpenSTL). "
        f"Lead times where its MSE beats optical flow: {_wins(evaluation, 'optical flow')}; persistence: "
        f"{_wins(evaluation, 'persistence')}. SSIM {ours['ssim']:.3f} against optical flow's "
        f"{evaluation['methods'].get('optical flow', {}).get('mean', {}).get('ssim', float('nan')):.3f}: SSIM "
        "punishes the faint grey haze a blurry forecast leaves on the black background.",
        "- Trained only on 64×64 two-digit Moving MNIST. Other sizes are resized to 64×64 and back by "
        "`convlstm.forecast`; other content (video, radar) is out of distribution.",
        "- Reproduce: the commands at the top of `scripts/write_model_card.py`, with the config above "
        "(`training.json`).",
    ]
    return "\n".join(lines) + "\n"


def _arithmetic(evaluation: dict) -> str:
    """How and where the test scores were computed, as evaluation.json records it."""
    precision = evaluation.get("precision", "fp32")
    how = "bf16 where the hardware has it, as the app runs" if precision == "auto" else precision
    return f"{how}, on {evaluation['device']}" if evaluation.get("device") else how


def _runs(training: dict) -> list[str]:
    """One line per training run behind the checkpoint, oldest first (the train command records the runs a
    continued checkpoint started from under "earlier_runs"), then the total where there were several."""
    runs = [*training.get("earlier_runs", []), training]
    lines = []
    for i, run in enumerate(runs, start=1):
        t = run["config"]
        loss = LOSS_NAMES.get(t["loss"], t["loss"])
        teacher = (f"; scheduled sampling from {t.get('teacher_forcing_start', 1.0):g}, falling to 0 by "
                   f"{t['teacher_forcing_until']:.0%} of the run" if t["autoregressive"]
                   and t.get("teacher_forcing_start", 1.0) > 0 else "")
        compiled = f", gate math fused with torch.compile (`--compile {t['compile']}`)" \
            if t["compile"] != "none" else ""
        graphed = ", the whole step captured in a CUDA graph" if t.get("cuda_graph") else ""
        layout = ", channels-last memory layout" if t.get("channels_last") else ""
        start = "continued from the checkpoint above (same architecture), a fresh optimizer; " if i > 1 \
            else "from scratch; "
        lines.append(
            f"- {'Run ' + str(i) + ': ' if len(runs) > 1 else ''}{run['minutes']:.1f} minutes on one {run['device']}, "
            f"{start}{loss}; AdamW, lr {t['lr']:g} with {t['warmup_steps']} warm-up steps then cosine to "
            f"{t['min_lr_ratio']:g}× over the wall-clock budget; gradient clipping {t['grad_clip']:g}; batch "
            f"{t['batch_size']}{teacher}{'; bf16 autocast' if t['bf16'] and 'CPU' not in run['device'] else ''}"
            f"{compiled}{graphed}{layout}: {run['steps']:,} steps, {run['sequences']:,} sequences "
            f"({run['sequences_per_s']:.0f} sequences/s including validation); best validation MSE/frame "
            f"{run['best']['val_mse']:.1f} at step {run['best']['step']:,}.")
    if len(runs) > 1:
        lines.append(f"- In all: {sum(r['minutes'] for r in runs):.1f} minutes, {sum(r['steps'] for r in runs):,} "
                     f"steps, {sum(r['sequences'] for r in runs):,} sequences.")
    return lines


def _wins(evaluation: dict, baseline: str) -> str:
    if baseline not in evaluation["methods"]:
        return "not measured"
    ours = evaluation["methods"]["ConvLSTM"]["per_lead"]["mse"]
    theirs = evaluation["methods"][baseline]["per_lead"]["mse"]
    wins = [f"+{k + 1}" for k, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a < b]
    return ", ".join(wins) if len(wins) < len(ours) else "all"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="checkpoint folder with config, training and evaluation JSON")
    args = p.parse_args(argv)
    (args.checkpoint / "README.md").write_text(card(args.checkpoint))
    print(f"wrote {args.checkpoint / 'README.md'} and predictions.png")


if __name__ == "__main__":
    main()
