"""Turn what a GPU call returned into checkpoint folders, evaluated and with their cards, on the CPU.

    python -m scripts.unpack_gpu_run OUT_DIR                      # into runs/gpu/NAME/ for each model
    python -m scripts.unpack_gpu_run OUT_DIR --into /tmp/x --n 8  # a quick look: 8 test sequences

A GPU call only trains (its minutes are scarce); everything else happens here, from its files:
each model is NAME.json (the checkpoint folder's small files, keyed by file name: config.json,
training.json, training_log.jsonl) beside its weights, NAME.safetensors or, for a model larger
than a returned file may be, shards NAME.part1.safetensors, NAME.part2.safetensors, ... For
each model this makes INTO/NAME/ (config, merged weights, training record), evaluates it on its
fixed test sets (Moving MNIST: 3,000 sequences of 2 digits and 1,000 of 3; radar: 1,000
synthetic sequences), writes its model card and prints its scores beside the bundled checkpoint's.
With --records DIR, the call's run.log and speed.json are kept there for the next run to compare.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from safetensors.torch import load_file, save_file

from convlstm.commands.reports import markdown_table

BUNDLED = {"moving-mnist": Path("checkpoints/moving-mnist"), "radar": Path("checkpoints/radar")}
RECORDS = ("run.log", "speed.json")


def weight_files(out: Path, name: str) -> list[Path]:
    """NAME.safetensors, or its shards NAME.part1.safetensors, NAME.part2.safetensors, ... in order."""
    whole = out / f"{name}.safetensors"
    if whole.is_file():
        return [whole]
    return sorted(out.glob(f"{name}.part*.safetensors"), key=lambda p: int(p.name.split(".part")[1].split(".")[0]))


def unpack(packed_json: Path, into: Path) -> Path | None:
    """INTO/NAME/ with the packed files and the weights merged into model.safetensors; None where the
    call returned no weights for it (a failed stage, or a record kept without its model)."""
    name = packed_json.stem
    shards = weight_files(packed_json.parent, name)
    if not shards:
        print(f"{packed_json.name}: no weights beside it; skipped")
        return None
    folder = into / name
    folder.mkdir(parents=True, exist_ok=True)
    for file, value in json.loads(packed_json.read_text()).items():
        if file.endswith(".jsonl"):
            text = "".join(json.dumps(record) + "\n" for record in value)
        else:
            text = value if isinstance(value, str) else json.dumps(value, indent=2)
        (folder / file).write_text(text)
    weights = {}
    for shard in shards:
        weights |= load_file(shard)
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    return folder


def evaluate_and_describe(folder: Path, n: int | None) -> None:
    """The test-set evaluations the card reads, then the card (Moving MNIST) or the radar table."""
    from convlstm.commands import evaluate, radar_eval

    dataset = json.loads((folder / "training.json").read_text())["config"]["dataset"]
    limit = ["--n", str(n)] if n else []
    if dataset == "radar":
        radar_eval.main(["--model", str(folder), "--out", str(folder / "evaluation.json"), *limit])
        return
    from scripts import write_model_card

    evaluate.main(["--model", str(folder), *limit])
    evaluate.main(["--model", str(folder), "--digits", "3", *(["--n", str(n)] if n else ["--n", "1000"])])
    write_model_card.main([str(folder)])


def comparison(folder: Path) -> str:
    """The new checkpoint's mean test scores beside the bundled one's (where both exist)."""
    new = json.loads((folder / "evaluation.json").read_text())
    dataset = json.loads((folder / "training.json").read_text())["config"]["dataset"]
    old_path = BUNDLED.get(dataset, Path()) / "evaluation.json"
    rows = [(f"{folder.name} (this run)", new)]
    if old_path.is_file():
        rows.append((f"bundled {old_path.parent}", json.loads(old_path.read_text())))
    keys = ("mse", "ssim", "ssim_openstl") if dataset != "radar" else ("csi@0.5", "far@0.5", "csi@2")
    return markdown_table([f"{folder.name}: {new['sequences']} test sequences", *keys],
                          [[label, *(f"{mean[k]:.3f}" if k in mean else "–" for k in keys)]
                           for label, mean in ((label, r["methods"]["ConvLSTM"]["mean"]) for label, r in rows)])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m scripts.unpack_gpu_run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, help="the folder of files the GPU call returned")
    p.add_argument("--into", type=Path, default=Path("runs/gpu"), help="where the checkpoint folders go")
    p.add_argument("--n", type=int, default=None, help="evaluate on the first N test sequences only (default: all)")
    p.add_argument("--records", type=Path, default=None,
                   help="also copy the call's run.log and speed.json into this folder")
    args = p.parse_args(argv)
    if not args.out.is_dir():
        raise SystemExit(f"{args.out} is not a folder")
    folders = [f for f in (unpack(j, args.into) for j in sorted(args.out.glob("*.json")) if j.name not in RECORDS)
               if f is not None]
    if not folders:
        raise SystemExit(f"{args.out} holds no model (NAME.json beside NAME.safetensors)")
    for folder in folders:
        evaluate_and_describe(folder, args.n)
    if args.records:
        args.records.mkdir(parents=True, exist_ok=True)
        for name in RECORDS:
            if (args.out / name).is_file():
                shutil.copy(args.out / name, args.records / name)
    print("\n\n".join(comparison(folder) for folder in folders))


if __name__ == "__main__":
    main()
