"""scripts/gpu_flagship.sh, dry-run on the CPU (DEVICE=cpu): every stage, file and table of the GPU call.

The dry run trains one step of each bundled model at batch 2 and scores 8 test sequences, so it
checks the plumbing (flags, the files in $OUT and their contents, the summary table), not speed
or skill; the CUDA-graph rows can only say that they need CUDA.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from convlstm import load_model

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
EXPECTED = {"mnist.safetensors", "mnist.json", "radar.safetensors", "radar.json", "radar_wide.safetensors",
            "radar_wide.json", "speed.json", "run.log"}


def dry_run(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / "out"
    env = os.environ | {"DEVICE": "cpu", "OUT": str(out), "WORK": str(tmp_path / "work"), "PYTHON": sys.executable,
                        **env}
    result = subprocess.run(["bash", "scripts/gpu_flagship.sh"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
    return result, out


def unpack(packed: dict, weights: Path, folder: Path) -> Path:
    """What the script's header says to do with NAME.json and NAME.safetensors."""
    folder.mkdir()
    for name, value in packed.items():
        text = value if isinstance(value, str) else "".join(json.dumps(r) + "\n" for r in value) \
            if name.endswith(".jsonl") else json.dumps(value, indent=2)
        (folder / name).write_text(text)
    shutil.copy(weights, folder / "model.safetensors")
    return folder


def test_the_dry_run_leaves_every_output_file_and_prints_the_summary(tmp_path):
    result, out = dry_run(tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    files = {p.name: p for p in out.iterdir()}
    assert set(files) == EXPECTED  # ≤ 8 files, each under the 16 MiB a GPU run can bring back
    assert all(p.is_file() and p.stat().st_size <= 16 * 2**20 for p in files.values())

    # (a) the eager step timed, the graphed ones reported as needing CUDA
    speed = json.loads(files["speed.json"].read_text())["training_step"]
    rows = {r["variant"]: r for r in speed["variants"]}
    assert rows["eager"]["steps_per_s"] > 0 and rows["eager"]["check"] == "n/a"
    assert rows["CUDA graph"]["error"] == rows["CUDA graph, fused gates"]["error"] == "needs CUDA"
    assert speed["flops_per_step"] > 1e11 and speed["batch_size"] == 2 and speed["recommended"] == []

    # (b, d) Moving MNIST: continued from the bundled checkpoint, evaluated, packed, loadable
    mnist = json.loads(files["mnist.json"].read_text())
    assert {"config.json", "training.json", "training_log.jsonl", "evaluation.json", "evaluation.md",
            "evaluation_3digits.json"} <= set(mnist) and "README.md" not in mnist
    training = mnist["training.json"]
    assert training["steps"] == 1 and training["config"]["init_from"] == "checkpoints/moving-mnist"
    assert training["config"]["autoregressive"] and training["config"]["teacher_forcing_start"] == 0
    evaluation = mnist["evaluation.json"]
    assert evaluation["sequences"] == 8 and set(evaluation["methods"]) == {"ConvLSTM", "optical flow", "persistence"}
    assert {"mse", "ssim", "ssim_openstl"} <= set(evaluation["methods"]["ConvLSTM"]["mean"])
    assert mnist["evaluation_3digits.json"]["digits"] == 3
    assert [e["step"] for e in mnist["training_log.jsonl"] if e["event"] == "eval"] == [0, 1]
    assert all(t.dtype.is_floating_point and t.itemsize == 2 for t in load_file(files["mnist.safetensors"]).values())
    model = load_model(unpack(mnist, files["mnist.safetensors"], tmp_path / "mnist"), device="cpu")
    assert model.num_parameters() == 7_790_096

    # (c, d) radar: the bundled model continued, and a 2×64 one of the same design from scratch
    bundled_radar = load_model(REPO / "checkpoints/radar", device="cpu")
    for name, init_from, hidden in (("radar", "checkpoints/radar", [32, 32]), ("radar_wide", None, [64, 64])):
        radar = json.loads(files[f"{name}.json"].read_text())
        config = radar["training.json"]["config"]
        assert config["dataset"] == "radar" and config["loss"] == "mse" and radar["training.json"]["steps"] == 1
        assert config["init_from"] == init_from and config["hidden_channels"] == hidden
        assert radar["evaluation.json"]["sequences"] == 8
        assert "csi@0.5" in radar["evaluation.json"]["methods"]["ConvLSTM"]["mean"]
        model = load_model(unpack(radar, files[f"{name}.safetensors"], tmp_path / name), device="cpu")
        assert model.frame_size == 100 and model.hidden_channels == hidden
        assert (model.forecast_head, model.probability_matching) == ("advection", True)
        contract = (model.value_transform, model.step_minutes)
        assert contract == (bundled_radar.value_transform, bundled_radar.step_minutes)

    # (e) the summary table, last, on stdout and in the log
    tail = result.stdout[-3000:]
    bundled = json.loads((REPO / "checkpoints/moving-mnist/evaluation.json").read_text())["methods"]["ConvLSTM"]["mean"]
    for line in ("| CUDA graph | needs CUDA", f"| ConvLSTM, bundled | {bundled['mse']:.1f} |",
                 "| Moving MNIST test, 8 sequences | MSE/frame ↓ | SSIM ↑ | SSIM (OpenSTL) ↑ |",
                 "| radar test, 8 sequences | CSI@0.5 ↑", "| ConvLSTM 2×64, from scratch |", "8 files in"):
        assert line in tail, line
    assert "| radar test, 8 sequences |" in files["run.log"].read_text()


def test_a_failed_stage_leaves_the_others_outputs(tmp_path):
    # The Moving MNIST flags are refused (stages a and b fail at once); the radar models still train,
    # are evaluated and land in $OUT, and the script says so and exits non-zero.
    result, out = dry_run(tmp_path, MNIST_RECIPE="--no-such-flag")
    assert result.returncode == 1
    assert {p.name for p in out.iterdir()} == {"radar.safetensors", "radar.json", "radar_wide.safetensors",
                                               "radar_wide.json", "run.log"}
    assert "stage (b) FAILED" in result.stdout and "Moving MNIST: no checkpoint" in result.stdout
    assert result.stdout.count("| radar test, 8 sequences |") == 2


def test_a_failed_radar_candidate_leaves_the_other(tmp_path):
    # The wide candidate's flags are refused; the continued one is still trained, scored and packed.
    result, out = dry_run(tmp_path, RADAR_WIDE="--no-such-flag")
    assert result.returncode == 1
    assert {"radar.safetensors", "radar.json", "mnist.json"} <= {p.name for p in out.iterdir()}
    assert not (out / "radar_wide.json").exists()
    assert "stage (c, d) radar_wide FAILED" in result.stdout
    assert "radar, 2×64 from scratch: no checkpoint" in result.stdout


def test_radar_candidates_fall_back_to_the_eager_step_when_the_recommended_one_fails(tmp_path):
    # The step flags are checked on the Moving MNIST model only; here they fail outright (a CUDA
    # graph on the CPU), and the radar models are trained again with the eager step.
    result, out = dry_run(tmp_path, STEP_FLAGS="--cuda-graph")
    assert result.returncode == 1 and "stage (b) FAILED" in result.stdout
    for name in ("radar", "radar_wide"):
        assert f"training {name} with '--cuda-graph' FAILED; again with the eager step" in result.stdout
        packed = json.loads((out / f"{name}.json").read_text())
        assert packed["training.json"]["steps"] == 1 and not packed["training.json"]["config"]["cuda_graph"]
        assert packed["evaluation.json"]["sequences"] == 8
