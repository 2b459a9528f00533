"""Training the objects head: a loss blind to which object is which, a run that saves and continues."""

import json

import torch

from convlstm import load_model
from convlstm.commands.train_objects import main, owner_loss


def test_the_loss_does_not_care_which_object_is_which():
    owners = torch.randint(0, 3, (2, 3, 8, 8))
    right = torch.nn.functional.one_hot(owners.clamp(min=1) - 1, 2).permute(0, 1, 4, 2, 3).float() * 20
    swapped = right.flip(2)
    for logits in (right, swapped):
        loss, accuracy = owner_loss(logits, owners)
        assert loss < 1e-6 and accuracy == 1


def test_a_short_run_saves_a_model_that_loads_and_continues(tmp_path):
    common = ["--hidden-channels", "4", "--batch-size", "2", "--max-minutes", "0.002"]
    main(["--out", str(tmp_path / "a"), *common])
    record = json.loads((tmp_path / "a" / "training.json").read_text())
    assert record["steps"] >= 1 and "val_ink_accuracy" in record["final"]
    assert load_model(tmp_path / "a", device="cpu").forecast_head == "objects"
    main(["--out", str(tmp_path / "b"), "--init-from", str(tmp_path / "a"), *common])
    continued = json.loads((tmp_path / "b" / "training.json").read_text())
    assert continued["steps"] > record["steps"]
    assert [run["from_step"] for run in continued["runs"]] == [0, record["steps"]]
