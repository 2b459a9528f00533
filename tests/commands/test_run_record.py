"""What a run leaves behind: a continued run's training.json records the runs before it."""

import json

import pytest

from convlstm.commands.train import parse_args, train
from tests.helpers import TINY_FLAGS


@pytest.mark.slow
def test_a_continued_run_records_the_runs_before_it(tmp_path, one_torch_thread):
    def run(out, *extra):
        return train(parse_args([*TINY_FLAGS, "--out", str(out), "--max-steps", "2", "--eval-every", "2", *extra]))

    run(tmp_path / "a")
    run(tmp_path / "b", "--init-from", str(tmp_path / "a" / "best"))
    run(tmp_path / "c", "--init-from", str(tmp_path / "b" / "best"))
    history = json.loads((tmp_path / "c" / "best" / "training.json").read_text())["earlier_runs"]
    assert [r["config"]["out"] for r in history] == [str(tmp_path / "a"), str(tmp_path / "b")]  # oldest first
    assert all(r["steps"] == 2 and "earlier_runs" not in r for r in history)
