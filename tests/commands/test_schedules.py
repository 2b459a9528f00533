"""The learning rate and scheduled sampling over a run's progress."""

import math

import pytest

from convlstm.commands.schedules import lr_factor, teacher_forcing
from convlstm.commands.train_config import TrainConfig


@pytest.mark.usefixtures("one_torch_thread")
def test_teacher_forcing_falls_from_its_start_to_zero():
    config = TrainConfig(autoregressive=True, teacher_forcing_start=0.3, teacher_forcing_until=0.5)
    assert [teacher_forcing(p, config) for p in (0, 0.25, 0.5, 0.9)] == pytest.approx([0.3, 0.15, 0, 0])
    assert teacher_forcing(0.1, TrainConfig(autoregressive=False)) == 0
    assert teacher_forcing(0.0, TrainConfig(autoregressive=True, teacher_forcing_until=0)) == 0
    with pytest.raises(ValueError, match="probability"):
        TrainConfig(teacher_forcing_start=1.5)


def test_the_learning_rate_warms_up_then_falls_along_a_cosine_to_its_floor():
    config = TrainConfig(warmup_steps=4, min_lr_ratio=0.1)
    assert [lr_factor(step, 0.0, config) for step in range(5)] == pytest.approx([0.25, 0.5, 0.75, 1, 1])
    assert lr_factor(100, 0.5, config) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert lr_factor(100, 1.0, config) == lr_factor(100, 2.0, config) == pytest.approx(0.1)
