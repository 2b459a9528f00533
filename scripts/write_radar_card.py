"""Write a radar checkpoint's model card (README.md) from its recorded results.

    python -m convlstm.train --dataset radar --out runs/radar ...           # runs/radar/best/training.json
    python -m convlstm.nowcast --model runs/radar/best --out runs/radar/best/evaluation.json
    python -m convlstm.realradar --data ../shared/radar --model ConvLSTM=runs/radar/best \\
        --model "paper ConvLSTM=checkpoints/radar-paper" --out runs/radar/best/real_radar.json
    python -m scripts.write_radar_card runs/radar/best

Reads config.json, training.json, evaluation.json (synthetic test set) and, if present,
real_radar.json (the real FMI/KNMI samples). Every figure in the card comes from those files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from convlstm import load_model
from convlstm.commands.radar_eval import table_like_paper
from convlstm.commands.real_radar import summary_table
from convlstm.scoring.compare import at_amounts

PERFORMANCE = "real_radar_performance.png"  # the performance diagram `python -m convlstm.realradar` draws


def _mean(results: dict, method: str, key: str) -> float:
    return results["methods"][method]["mean"][key]


def card(folder: Path) -> str:
    config = json.loads((folder / "config.json").read_text())
    training = json.loads((folder / "training.json").read_text())
    synthetic = json.loads((folder / "evaluation.json").read_text())
    real_path = folder / "real_radar.json"
    real = json.loads(real_path.read_text()) if real_path.exists() else None
    model = load_model(folder, device="cpu")
    advection = config.get("forecast_head") == "advection"
    head = ("the advection head (`convlstm.core.advection`): at each lead time the forecaster's hidden states give a "
            f"motion field (at most {config.get('max_speed', 4.0):g} px/step), weights over the last frame blurred at "
            "σ = 0, 1.5, 3, 6 px, and a growth/decay field, all on the 25×25 grid and upsampled; the last input "
            "frame is sampled at the departure points traced back along the motion (semi-Lagrangian), blended "
            "across the blur levels, and the accumulated growth is added" if advection else
            "the paper's 1×1 convolution over all forecaster hidden states, depth-to-space, sigmoid")
    ours = "ConvLSTM"
    lines = [
        "---", "library_name: convlstm-nowcast", "license: mit",
        "tags: [convlstm, precipitation-nowcasting, weather-radar, video-prediction, pytorch_model_hub_mixin]",
        "---", "",
        f"# ConvLSTM {'advection ' if advection else ''}nowcaster for radar (synthetic radar, CPU-trained)",
        "",
        f"{config['context_frames']} radar frames of {config['frame_size']}×{config['frame_size']} pixels in, "
        f"{config['horizon']} predicted, rain rate in mm/h (`config.json` records the dBZ scale, "
        '`"value_transform": "dbz60"`, and the time step). Load it with `convlstm.load_model(<folder>)`; '
        "`convlstm.forecast(model, frames_mm_h, horizon)` forecasts rain rates, and "
        "`convlstm.scoring.compare.compare(model, frames_mm_h, context=5, horizon=15)` puts it beside optical flow and "
        "persistence.",
        "",
        "## Architecture",
        f"- Frames in the model's scale, dBZ / 60 in [0, 1] (Marshall–Palmer Z = 200 R^1.6), cut into "
        f"{config['patch_size']}×{config['patch_size']} patches; encoder ConvLSTM {config['hidden_channels']} with "
        f"{config['kernel_size']}×{config['kernel_size']} kernels and {config['peephole']} peepholes; a forecaster "
        "of the same shape started from the encoder's final states "
        f"({'reading its previous frame' if config['autoregressive'] else 'with no input, as in the paper'}); "
        f"then {head}.",
        *matching_lines(config, synthetic, real, ours),
        f"- {model.num_parameters():,} parameters; `model.safetensors` "
        f"{(folder / 'model.safetensors').stat().st_size / 1e6:.1f} MB.",
        "",
        "## Training",
        "- Data: synthetic radar generated on the fly (`convlstm.data.synthetic_radar`: power-law rain fields, "
        "moving convective cells, smooth winds up to 3 px/step, growth and decay); validation and test are fixed "
        "synthetic sets. Real radar was never trained on; its samples below served to choose between run checkpoints "
        "and to decide on probability matching (see above), so its scores there are slightly optimistic.",
        "- AdamW with warm-up then cosine decay, gradient clipping 1; the runs (each continuing the last):",
        *runs_lines(training),
        f"- Best validation MSE/frame {training['best']['val_mse']:.1f} (the [0, 1] scale, summed over the "
        f"frame) at step {training['best']['step']:,} of the last run.",
        "",
        f"## Synthetic test set ({synthetic['sequences']:,} sequences, scored on mm/h)",
        "",
        table_like_paper(synthetic),
        "",
    ]
    if real:
        lines += [
            f"## Real radar ({real['samples']} samples from FMI and KNMI composites)",
            "",
            "Built and scored by `python -m convlstm.realradar` (5-minute steps; rain rate with each source's own "
            "Z–R, block-averaged so rain moves 1–3 px a step; 100×100 windows with radar coverage and rain; "
            "coverage masks applied to truth and forecasts, and uncovered pixels left out of every score). pysteps' "
            "Lucas–Kanade extrapolation and S-PROG are the field's reference nowcasts. The frequency bias "
            "(POD / (1 − FAR)) is each forecast's rain area over the observed one: CSI and FAR alone reward a larger "
            "or a smaller area, so every method is also scored with S-PROG's rain amounts, which gives all of them "
            "S-PROG's area and leaves only where they put the rain to compare. The model was trained at 6-minute "
            "steps." + (f" Run on the project's {real['device']} on {real['date']}, where the CPU seconds at the end "
                        "were measured (a shared machine: they vary from day to day)." if "device" in real else ""),
            "",
            table_like_paper(real),
            "",
            summary_table(real),
            "",
        ]
    pictures = [("evaluation.png", "CSI at 0.5 mm/h by lead time, synthetic test set"),
                ("real_radar.png", "CSI at 0.5 mm/h by lead time, real radar samples"),
                (PERFORMANCE, "Performance diagram of the real radar samples at 0.5 mm/h: each method's mean POD "
                              "and success ratio, its lead times as a line; curves of equal CSI, dashed lines of "
                              "equal bias")]
    pictures += [(p.name, f"Real radar, the first sample of {p.stem.split('_', 2)[-1]}")
                 for p in sorted(folder.glob("real_radar_*.png"))
                 if p.name != PERFORMANCE
                 and not p.name.startswith("real_radar_KNMI")]  # KNMI's licence is unconfirmed: not in the repository
    lines += [f"![{text}]({name})" for name, text in pictures if (folder / name).exists()]
    lines += ["", "## Limitations", *limitations(synthetic, real, ours, advection)]
    return "\n".join(lines) + "\n"


def matching_lines(config: dict, synthetic: dict, real: dict | None, ours: str) -> list[str]:
    """Whether the checkpoint asks for probability matching, and what it does on the real samples (both ways there)."""
    what = ("- Probability matching (`convlstm.core.inference.probability_matched`, S-PROG's last step): every "
            "forecast frame keeps the order of its pixels and takes the last input frame's distribution of rain rates, "
            "so the squared-error training's smoothing neither washes out the heavy cores nor shrinks the rain area.")
    if not config.get("probability_matching"):
        return [what + " It is **off** for this checkpoint (`\"probability_matching\": true` in `config.json` "
                "switches it on)."]
    line = what + (" It is **on** (`\"probability_matching\": true` in `config.json`, set after training; applied "
                   "by `convlstm.forecast`).")
    other = f"{ours} without probability matching"

    def change(methods: dict, key: str) -> str:
        return f"{methods[other]['mean'][key]:.3f} → {methods[ours]['mean'][key]:.3f}"
    held_out = next((s for s in (real or {}).get("by_source", {}) if s.startswith("KNMI")), None)
    if held_out and other in real["by_source"][held_out]["methods"]:
        m = real["by_source"][held_out]["methods"]
        line += (f" It was chosen on the FMI samples; on {held_out}, left out of that choice, it changes CSI@0.5 "
                 f"{change(m, 'csi@0.5')}, CSI@2 {change(m, 'csi@2')} and FAR@0.5 {change(m, 'far@0.5')}.")
    if other in synthetic["methods"]:
        m = synthetic["methods"]
        line += (f" On the synthetic test set it costs: CSI@0.5 {change(m, 'csi@0.5')}, FAR@0.5 "
                 f"{change(m, 'far@0.5')}, rainfall MSE {change(m, 'rainfall_mse')} (optical flow "
                 f"{m['optical flow']['mean']['rainfall_mse']:.3f}).")
    return [line + " The tables below score the model both ways."]


def runs_lines(training: dict) -> list[str]:
    """One line per run, oldest first, and the total: what a checkpoint's training.json records."""
    runs = [*training.get("earlier_runs", []), training]
    lines = [f"  {i}. {r['steps']:,} steps, {r['sequences']:,} sequences, {r['minutes']:.1f} min on {r['device']}: "
             f"loss {r['config']['loss'].upper()}, lr {r['config']['lr']:g}, batch {r['config']['batch_size']}"
             for i, r in enumerate(runs, start=1)]
    total = sum(r["minutes"] for r in runs)
    return lines + [f"- In all {sum(r['steps'] for r in runs):,} steps, {sum(r['sequences'] for r in runs):,} "
                    f"sequences, {total:.0f} minutes of training."]


def limitations(synthetic: dict, real: dict | None, ours: str, advection: bool) -> list[str]:
    out = []
    flow_csi = synthetic["methods"]["optical flow"]["per_lead"]["csi@0.5"]
    our_csi = synthetic["methods"][ours]["per_lead"]["csi@0.5"]
    wins = sum(a > b for a, b in zip(our_csi, flow_csi, strict=True))
    mean, flow = _mean(synthetic, ours, "csi@0.5"), _mean(synthetic, "optical flow", "csi@0.5")
    out.append(f"- Synthetic test set: CSI at 0.5 mm/h above optical flow at {wins} of {len(our_csi)} lead times "
               f"(mean {mean:.3f} against {flow:.3f}).")
    if real:
        ratio = real["area_ratio_60min"]
        out.append(
            f"- Real radar: CSI@0.5 {_mean(real, ours, 'csi@0.5'):.3f} (FAR {_mean(real, ours, 'far@0.5'):.3f}) "
            "against "
            f"our optical flow {_mean(real, 'optical flow', 'csi@0.5'):.3f} and pysteps S-PROG "
            f"{_mean(real, 'pysteps S-PROG', 'csi@0.5'):.3f} (FAR {_mean(real, 'pysteps S-PROG', 'far@0.5'):.3f}); "
            f"CSI@2 {_mean(real, ours, 'csi@2'):.3f} against S-PROG's {_mean(real, 'pysteps S-PROG', 'csi@2'):.3f}. "
            f"Rain area at +60 min is {ratio[ours]:.2f}× the truth's (S-PROG {ratio['pysteps S-PROG']:.2f}×).")
        same = real.get("at_reference_amounts")
        if same and same["model"] == ours:
            ref = same["reference"]
            placed = at_amounts(ours, ref)
            r, p = same["methods"][ref]["mean"], same["methods"][placed]["mean"]
            bias = real["methods"][ours]["mean"].get("bias@0.5", float("nan"))
            losses = [source for source, by in same["by_source"].items()
                      if by[placed]["mean"]["csi@0.5"] <= by[ref]["mean"]["csi@0.5"]
                      or by[placed]["mean"]["far@0.5"] > by[ref]["mean"]["far@0.5"]]
            out.append(
                f"- Its frequency bias is {bias:.2f} against S-PROG's {r['bias@0.5']:.2f}: it forecasts more rain "
                f"area, hence its higher FAR. Given S-PROG's own rain amounts frame by frame (the last table of the "
                f"real-radar section), it scores CSI@0.5 {p['csi@0.5']:.3f} with FAR {p['far@0.5']:.3f} against "
                f"S-PROG's {r['csi@0.5']:.3f} and {r['far@0.5']:.3f}, so it places the rain better"
                + (f", except on {', '.join(losses)} (CSI not above, or FAR above, S-PROG's there)." if losses
                   else ": CSI above and FAR no higher than S-PROG's on every source."))
    if advection:
        out.append("- Where rain would come in from outside the window, the predicted motion fades to zero over the "
                   "last 15–20 px at the upwind edge, so the edge's rain is stretched inward: a haze at long lead "
                   "times, which probability matching turns into rain (look at the right-hand columns of the "
                   "pictures). It is the model's guess at the inflow and wins CSI there; forecasting no rain there "
                   "instead, as S-PROG does, lost CSI when tried.")
    out.append("- Trained only on synthetic radar, briefly, on a 2-core CPU; three real cases are too few to "
               "say how it does elsewhere.")
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="radar checkpoint folder with config, training and evaluation JSON")
    args = p.parse_args(argv)
    (args.checkpoint / "README.md").write_text(card(args.checkpoint))
    print(f"wrote {args.checkpoint / 'README.md'}")


if __name__ == "__main__":
    main()
