"""The GPU call: Moving MNIST training only, in one call of about 8 minutes on one GPU.

    python -m scripts.gpu_run --out $OUT                       # on the GPU machine
    python -m scripts.gpu_run --out /tmp/dry --dry-run         # on the CPU: every stage, one step each
    python -m scripts.unpack_gpu_run $OUT --records benchmarks/gpu-runs/DATE   # afterwards, on the CPU

GPU minutes are scarce, so the call only trains; evaluating, drawing and writing cards happen
afterwards on the CPU from the files it returns (``scripts/unpack_gpu_run.py``). In order:

1. speed (≤ ``--speed-seconds``): the training step's variants (CUDA graph, fused gates,
   channels-last; batch 16 and 32) timed on the bundled model, each checked against the eager
   step; the fastest that passes trains everything after (``benchmarks/bench_gpu.py``).
2. training: by default the bundled checkpoint continued, alone on the GPU. With several
   ``--candidate`` recipes they start side by side, each with a schedule sized for the whole
   ``--seconds``; all validate when their clocks pass ``--compare-after`` seconds, all but the one
   with the lowest validation MSE/frame are stopped (SIGTERM: it validates, saves and exits) and
   that one trains on alone to the end of its schedule, nothing restarted. A candidate whose step
   flags fail is trained again with the eager step for the time left;
3. at most 8 files in ``--out``: each candidate as NAME.json (config, training record, log) beside
   its float16 weights, NAME.safetensors or, above ``--part-mib``, NAME.part1.safetensors, ...;
   ``speed.json``; and ``run.log``, everything printed, the summary table last.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from safetensors.torch import load_file, save_file

from convlstm.commands.reports import markdown_table

ROOT = Path(__file__).resolve().parent.parent
# The paper's encoder-forecaster (128-64-64, 5x5, autoregressive, as the bundled checkpoint).
PAPER_MODEL = "--autoregressive --peephole channel --hidden-channels 128 64 64 --kernel-size 5"
# The call's default: continue the bundled checkpoint, without teacher forcing (it forecasts on its own
# already). Its last 5.5-minute run took validation MSE/frame from 113.6 to 103.0; at equal steps no recipe
# from scratch (BENCHMARKS.md, "Learning per step") would reach the checkpoint's score within one call.
CANDIDATES = {
    "continued": f"--init-from checkpoints/moving-mnist {PAPER_MODEL} --batch-size 16 --lr 5e-4 "
                 "--warmup-steps 200 --teacher-forcing-start 0 --loss bce",
}
# Every candidate: validation on a fixed 500-sequence set, batches made 16 at a time
# on the GPU (one generator call instead of sixteen), float16 weights.
COMMON = "--eval-every 2500 --eval-sequences 500 --log-every 250 --data-chunk 16 --save-dtype float16 --no-progress-bar"
STARTUP_S = 60  # a training process's start: imports, the fused gates' compilation, the graph's capture
MAX_FILES = 8


class Log:
    """Print and keep everything: run.log is the call's record."""

    def __init__(self, path: Path):
        self.file = path.open("w")
        self.start = time.time()

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.file.write(text + "\n")
        self.file.flush()

    def stage(self, text: str) -> None:
        self(f"\n=== {text} ({time.time() - self.start:.0f} s)")


def run(command: list[str], log: Log, timeout: float) -> int:
    """A command, its output into the log; its exit status (124 when it ran past ``timeout``)."""
    log("$ " + shlex.join(command))
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        log((error.stdout or b"").decode(errors="replace") if isinstance(error.stdout, bytes) else error.stdout or "")
        log(f"(stopped after {timeout:.0f} s)")
        return 124
    log(done.stdout.rstrip())
    if done.stderr.strip():
        log(done.stderr.rstrip()[-4000:])
    return done.returncode


def train_command(out: Path, recipe: str, step_flags: list[str], seconds: float, compare_after: float,
                  args) -> list[str]:
    budget = ["--max-steps", "3", "--max-minutes", "60", "--eval-every", "2"] if args.dry_run else \
        ["--max-steps", "10000000", "--max-minutes", f"{seconds / 60:.3f}"]
    device = ["--device", "cpu", "--batch-size", "2", "--eval-sequences", "4", "--data-chunk", "2"] if args.dry_run \
        else ["--device", "cuda"]
    return [sys.executable, "-m", "convlstm.train", "--out", str(out), *shlex.split(recipe), *shlex.split(COMMON),
            *step_flags, *budget, "--eval-at-minutes", f"{compare_after / 60:.6g}", *device]


def start(out: Path, recipe: str, step_flags: list[str], seconds: float, compare_after: float,
          args) -> subprocess.Popen:
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(train_command(out, recipe, step_flags, seconds, compare_after, args), cwd=ROOT,
                            stdout=out.with_suffix(".out").open("w"), stderr=subprocess.STDOUT, text=True)


def at_batch(recipe: str, batch: int, lr_scale: float) -> str:
    """A recipe at another batch size, its peak learning rate scaled as the speed stage says."""
    from convlstm.commands.train import parse_args

    return f"{recipe} --batch-size {batch} --lr {parse_args(shlex.split(recipe)).lr * lr_scale:.3g}"


def validation_at(out: Path, minutes: float) -> float | None:
    """A run's validation MSE/frame at the first validation its clock made at or after ``minutes``, if any yet."""
    try:
        lines = (out / "log.jsonl").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        record = json.loads(line) if line.strip() else {}
        if record.get("event") == "eval" and record["minutes"] >= minutes and record["step"] > 0:
            return record["val_mse"]
    return None


def race(recipes: dict[str, str], step_flags: list[str], args, work: Path, log: Log) -> tuple[dict[str, Path], str]:
    """The candidates side by side (module docstring, stage 2): {name: checkpoint folder} of those that
    trained, and the name of the one that trained on."""
    begin, seconds, after = time.time(), args.seconds, args.compare_after
    running = {name: start(work / name, recipe, step_flags, seconds, after, args) for name, recipe in recipes.items()}
    flags = {name: step_flags for name in recipes}
    winner = None
    deadline = begin + seconds + STARTUP_S + 300
    while time.time() < deadline:
        for name, process in running.items():
            if process.poll() not in (None, 0) and flags[name]:  # its step flags failed: the eager step instead
                left = max(30.0, seconds - (time.time() - begin))
                log(f"{name} with '{' '.join(flags[name])}' FAILED; again with the eager step for {left:.0f} s:\n"
                    + (work / f"{name}.out").read_text()[-3000:])
                flags[name] = []
                running[name] = start(work / name, recipes[name], [], left, after, args)
        alive = {name for name, p in running.items() if p.poll() in (None, 0)}
        if winner is None:
            scores = {name: validation_at(work / name, after / 60) for name in alive}
            if alive and (all(score is not None for score in scores.values()) or len(alive) < 2):
                ranked = sorted((score, n) for n, score in scores.items() if score is not None)
                winner = ranked[0][1] if ranked else next(iter(alive))
                log(f"at {after:.0f} s: " + ", ".join(f"{n} {v:.2f}" for n, v in scores.items() if v is not None)
                    + f" (validation MSE/frame); {winner} trains on")
                for name in alive - {winner}:
                    running[name].terminate()  # it validates, saves its checkpoint and exits
        if all(p.poll() is not None for p in running.values()):
            break
        time.sleep(0.5)
    for name, process in running.items():
        if process.poll() is None:
            process.kill()
        process.wait()
        log(f"--- {name} (exit {process.returncode})\n" + (work / f"{name}.out").read_text().rstrip()[-6000:])
    trained = {name: work / name / "best" for name, p in running.items()
               if p.returncode == 0 and (work / name / "best" / "training.json").is_file()}
    return trained, winner


def pack(folder: Path, log_file: Path, name: str, out: Path, part_bytes: int) -> list[Path]:
    """The checkpoint folder's small files as OUT/NAME.json and its weights as OUT/NAME.safetensors, or in
    parts of at most ``part_bytes`` each when larger (NAME.part1.safetensors, ...): a returned file has a limit."""
    packed = {f.name: json.loads(f.read_text()) for f in sorted(folder.glob("*.json"))}
    if log_file.is_file():
        packed["training_log.jsonl"] = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    (out / f"{name}.json").write_text(json.dumps(packed, indent=1))
    weights = folder / "model.safetensors"
    if weights.stat().st_size <= part_bytes:
        files = [out / f"{name}.safetensors"]
        files[0].write_bytes(weights.read_bytes())
    else:
        parts, size, files = [{}], 0, []
        for key, tensor in load_file(weights).items():
            nbytes = tensor.numel() * tensor.element_size()
            if parts[-1] and size + nbytes > part_bytes:
                parts.append({})
                size = 0
            parts[-1][key] = tensor
            size += nbytes
        for i, part in enumerate(parts, start=1):
            files.append(out / f"{name}.part{i}.safetensors")
            save_file(part, files[-1], metadata={"format": "pt"})
    return [out / f"{name}.json", *files]


def summary(out: Path, names: list[str], winner: str | None) -> str:
    """The call's table: the training step's variants, then each candidate's training and validation."""
    lines = []
    speed = json.loads((out / "speed.json").read_text())["training_step"] if (out / "speed.json").is_file() else None
    if speed:
        rows = []
        for r in speed["variants"] + speed.get("other_batch_sizes", []):
            batch = r.get("batch_size", speed["batch_size"])
            if "error" in r:
                rows.append([r["variant"], batch, r["error"][:60], "", "", ""])
                continue
            mfu = f"{r['mfu']:.1%}" if r.get("mfu") is not None else "unknown"
            rows.append([r["variant"], batch, f"{r['steps_per_s']:.1f}", f"{r['sequences_per_s']:.0f}", mfu,
                         r.get("check", "n/a")])
        lines += [f"Training step on {speed['device']}; recommended: {' '.join(speed['recommended'] or []) or 'eager'}",
                  "", markdown_table(["step", "batch", "steps/s", "sequences/s", "MFU", "check"], rows), ""]
    rows = []
    for name in names:
        t = json.loads((out / f"{name}.json").read_text())["training.json"]
        rows.append([name + (" (trained on)" if name == winner else " (stopped)"), f"{t['steps']:,}",
                     f"{t['minutes']:.1f}", f"{t['sequences_per_s']:.0f}", f"{t['best']['val_mse']:.1f}"])
    lines.append(markdown_table(["model", "steps", "minutes", "sequences/s", "best validation MSE/frame"], rows))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scripts.gpu_run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "/tmp/out")), help="the returned files")
    p.add_argument("--work", type=Path, default=None, help="checkpoints while training (default: OUT/../work)")
    p.add_argument("--seconds", type=float, default=420, help="training seconds of the run that trains on")
    p.add_argument("--compare-after", type=float, default=120,
                   help="the candidates are compared when their clocks pass this many seconds of training")
    p.add_argument("--speed-seconds", type=float, default=2, help="timed seconds per step variant")
    p.add_argument("--step-flags", default=None, help="train with these step flags instead of the speed stage's")
    p.add_argument("--part-mib", type=float, default=15, help="weights larger than this are returned in parts")
    p.add_argument("--candidate", action="append", default=None, metavar="NAME=FLAGS",
                   help="a candidate's train flags instead of the default (repeat for each: they race)")
    p.add_argument("--dry-run", action="store_true", help="on the CPU: a few steps of everything, tiny batches")
    args = p.parse_args(argv)
    out, work = args.out, args.work or args.out.parent / f"{args.out.name}-work"
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    log = Log(out / "run.log")
    status = 0

    log.stage("machine")
    if not args.dry_run:
        run(["nvidia-smi", "--query-gpu=name,memory.total,clocks.sm,clocks.max.sm", "--format=csv,noheader"], log, 30)
    run([sys.executable, "-c", "import torch, safetensors; print('torch', torch.__version__, 'CUDA', "
         "torch.version.cuda, 'safetensors', safetensors.__version__)"], log, 60)

    recipes = dict(spec.split("=", 1) for spec in args.candidate) if args.candidate else dict(CANDIDATES)
    log.stage("1. training-step speed")
    step_flags = shlex.split(args.step_flags) if args.step_flags is not None else None
    if step_flags is None:
        timing = [sys.executable, "-m", "benchmarks.bench_gpu", "--training-only", "--seconds",
                 str(0.5 if args.dry_run else args.speed_seconds), "--json", str(out / "speed.json"),
                 *shlex.split(next(iter(recipes.values()))), "--data-chunk", "2" if args.dry_run else "16",
                 *(["--device", "cpu", "--batch-size", "2"] if args.dry_run else ["--extra-batch-sizes", "32"])]
        if run(timing, log, 240) != 0:
            log("the speed stage FAILED: training with the eager step")
            status = 1
    try:
        speed = json.loads((out / "speed.json").read_text())["training_step"]
    except (OSError, ValueError, KeyError):
        speed = None
    if step_flags is None:
        step_flags = (speed or {}).get("recommended") or []
        if speed and speed.get("recommended_batch_size", speed["batch_size"]) != speed["batch_size"]:
            recipes = {name: at_batch(recipe, speed["recommended_batch_size"], speed["lr_scale"])
                       for name, recipe in recipes.items()}
    log(f"training with: {' '.join(step_flags) or 'the plain eager step'}")
    for name, recipe in recipes.items():
        log(f"{name}: {recipe}")

    log.stage(f"2. the candidates side by side, compared at {args.compare_after:.0f} s")
    trained, winner = race(recipes, step_flags, args, work, log)
    status |= len(trained) < len(recipes)

    log.stage("3. packing")
    part_bytes = int(args.part_mib * 2**20)
    for name, folder in trained.items():
        files = pack(folder, folder.parent / "log.jsonl", name, out, part_bytes)
        log(f"{name}: {', '.join(f.name for f in files)}")
    if len(list(out.iterdir())) > MAX_FILES:
        log(f"more than the {MAX_FILES} files a call returns in {out}")
        status = 1
    for f in out.iterdir():
        f.chmod(0o644)  # safetensors writes its files owner-only

    log.stage("summary")
    log(summary(out, list(trained), winner))
    log(f"\n{len(list(out.iterdir()))} files in {out}: {' '.join(sorted(f.name for f in out.iterdir()))}")
    return status


if __name__ == "__main__":
    sys.exit(main())
