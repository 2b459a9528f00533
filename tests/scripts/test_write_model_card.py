"""The README's train → evaluate → model card commands, run in order on a tiny CPU run, give a card."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", *args], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("head", ["pixels", "advection"])
def test_the_readme_commands_write_a_model_card_from_the_run(tmp_path, head):
    out = tmp_path / "mnist"
    run("convlstm.train", "--out", str(out), "--hidden-channels", "8", "--kernel-size", "3", "--batch-size", "4",
        "--max-steps", "4", "--eval-every", "4", "--eval-sequences", "8", "--no-progress-bar",
        "--forecast-head", head, "--max-speed", "6")
    best = out / "best"
    training = json.loads((best / "training.json").read_text())
    assert training["steps"] == 4 and training["best"]["step"] == 4 and training["device"].startswith("CPU")

    run("convlstm.evaluate", "--model", str(best), "--n", "8")  # writes evaluation.json beside the weights
    evaluation = json.loads((best / "evaluation.json").read_text())
    assert evaluation["sequences"] == 8 and set(evaluation["methods"]) == {"ConvLSTM", "optical flow", "persistence"}

    run("scripts.write_model_card", str(best))
    card = (best / "README.md").read_text()
    ours = evaluation["methods"]["ConvLSTM"]["mean"]
    assert f"| ConvLSTM | {ours['mse']:.1f} |" in card  # the table comes from evaluation.json
    assert f"{training['steps']:,} steps" in card and "8 sequences from held-out digits" in card
    assert re.search(r"^library_name: convlstm-nowcast$", card, re.M)
    assert ("at most 6 px/frame" in card) == (head == "advection")  # the head the checkpoint has, described
    assert Image.open(best / "predictions.png").format == "PNG"
