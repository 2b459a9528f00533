"""scripts/gpu_run.py dry-run on the CPU (--dry-run: a few steps of everything at batch 2), and the
unpacking of what it returns (scripts/unpack_gpu_run.py): the plumbing of the GPU call, not its speed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from convlstm import load_model
from convlstm.commands.train import parse_args
from scripts.gpu_run import CANDIDATES, PAPER_MODEL

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / "out"
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "scripts.gpu_run", "--out", str(out), "--dry-run",
                             "--compare-after", "0.001", *args], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600)
    return result, out


def test_the_default_continues_the_bundled_checkpoint_without_teacher_forcing():
    (config,) = (parse_args(recipe.split()) for recipe in CANDIDATES.values())
    assert config.init_from == "checkpoints/moving-mnist" and config.teacher_forcing_start == 0
    assert config.hidden_channels == [128, 64, 64] and config.kernel_size == 5 and config.autoregressive


def test_two_candidates_race_one_trains_on_and_both_unpack_into_evaluated_checkpoints(tmp_path):
    # Weights above 10 MiB come back in parts: the paper's 7.8 M-parameter model is 15.6 MB in float16.
    recipe = f"{PAPER_MODEL} --batch-size 16 --lr 1e-3 --warmup-steps 100 --loss bce"
    result, out = run(tmp_path, "--part-mib", "10", "--candidate", f"context_loss={recipe} --supervise-context",
                      "--candidate", f"forecast_loss={recipe}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    files = {p.name: p for p in out.iterdir()}
    assert set(files) == {"context_loss.json", "context_loss.part1.safetensors", "context_loss.part2.safetensors",
                          "forecast_loss.json", "forecast_loss.part1.safetensors", "forecast_loss.part2.safetensors",
                          "speed.json", "run.log"}
    assert all(p.stat().st_size <= 10 * 2**20 for p in files.values())

    speed = json.loads(files["speed.json"].read_text())["training_step"]
    rows = {r["variant"]: r for r in speed["variants"]}
    assert rows["eager"]["steps_per_s"] > 0 and rows["CUDA graph, fused gates, channels-last"]["error"] == "needs CUDA"
    assert speed["recommended"] == [] and speed["recommended_batch_size"] == 2 and speed["lr_scale"] == 1

    log = files["run.log"].read_text()
    assert "(validation MSE/frame);" in log and "trains on" in log  # compared, one stopped
    for name, dense in (("context_loss", True), ("forecast_loss", False)):
        packed = json.loads(files[f"{name}.json"].read_text())
        assert {"config.json", "training.json", "training_log.jsonl"} <= set(packed)
        config = packed["training.json"]["config"]
        assert config["init_from"] is None and config["hidden_channels"] == [128, 64, 64]  # the paper's, from scratch
        assert config["supervise_context"] == dense
        assert packed["training.json"]["config"]["eval_at_minutes"] == [pytest.approx(0.001 / 60, abs=1e-4)]
    assert log.rstrip().endswith("forecast_loss.part2.safetensors run.log speed.json")  # the summary, last
    assert "| best validation MSE/frame |" in log

    # Afterwards, on the CPU: checkpoint folders, their evaluations and cards, the run's records kept.
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    unpack = subprocess.run([sys.executable, "-m", "scripts.unpack_gpu_run", str(out), "--into", str(tmp_path / "runs"),
                             "--n", "8", "--records", str(tmp_path / "records")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)
    assert unpack.returncode == 0, unpack.stdout[-3000:] + unpack.stderr[-3000:]
    for name in ("context_loss", "forecast_loss"):
        folder = tmp_path / "runs" / name
        assert {"config.json", "model.safetensors", "training.json", "training_log.jsonl", "evaluation.json",
                "evaluation_3digits.json", "README.md", "predictions.png"} <= {p.name for p in folder.iterdir()}
        merged = load_file(folder / "model.safetensors")
        parts = load_file(out / f"{name}.part1.safetensors") | load_file(out / f"{name}.part2.safetensors")
        assert merged.keys() == parts.keys() and all(torch.equal(merged[k], parts[k]) for k in parts)
        assert load_model(folder, device="cpu").num_parameters() == 7_790_096
        evaluation = json.loads((folder / "evaluation.json").read_text())
        assert evaluation["sequences"] == 8 and evaluation["device"].startswith("CPU")
        assert f"| {name}: 8 test sequences |" in unpack.stdout  # its scores beside the bundled model's
    assert {p.name for p in (tmp_path / "records").iterdir()} == {"run.log", "speed.json"}


def test_a_candidate_whose_step_fails_is_trained_again_with_the_eager_step_and_a_refused_one_is_left_out(tmp_path):
    # A CUDA graph on the CPU fails at once: each candidate is trained again eagerly. A candidate whose flags
    # are refused fails again: the other is still trained, packed and returned, and the call says so.
    result, out = run(tmp_path, "--step-flags=--cuda-graph",
                      "--candidate", "good=--init-from checkpoints/moving-mnist --loss bce",
                      "--candidate", "refused=--init-from checkpoints/moving-mnist --no-such-flag")
    assert result.returncode == 1
    assert "good with '--cuda-graph' FAILED; again with the eager step" in result.stdout
    assert {p.name for p in out.iterdir()} == {"good.json", "good.safetensors", "run.log"}
    packed = json.loads((out / "good.json").read_text())
    assert packed["training.json"]["steps"] > 0 and not packed["training.json"]["config"]["cuda_graph"]
    assert "good trains on" in result.stdout
