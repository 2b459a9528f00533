"""TrainConfig: every field a command-line flag with its help; defaults and refusals."""

import dataclasses

import pytest

from convlstm.commands.train import parse_args
from convlstm.commands.train_config import TrainConfig
from convlstm.data import mnist, synthetic_radar


def test_every_field_is_a_flag_with_its_help(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    shown = "".join(capsys.readouterr().out.split())  # argparse wraps the help: compare without whitespace
    for field in dataclasses.fields(TrainConfig):
        help_text = field.metadata.get("help")
        assert help_text, f"{field.name} has no help"
        on_by_default = field.type == "bool" and field.default is True
        flag = ("--no-" if on_by_default else "--") + field.name.replace("_", "-")  # True booleans turn off
        assert flag in shown and "".join(help_text.split()) in shown, field.name


def test_no_flags_is_the_default_config_and_every_flag_sets_its_field():
    assert parse_args([]) == TrainConfig()
    config = parse_args(["--hidden-channels", "8", "4", "--lr", "0.01", "--init-from", "runs/a/best", "--no-bf16",
                         "--dataset", "radar", "--peephole", "none"])
    assert (config.hidden_channels, config.lr, config.init_from, config.bf16, config.peephole) == \
        ([8, 4], 0.01, "runs/a/best", False, "none")
    assert (config.context_frames, config.horizon) == (synthetic_radar.CONTEXT, synthetic_radar.HORIZON)
    assert (TrainConfig().context_frames, TrainConfig().horizon) == (mnist.CONTEXT, mnist.HORIZON)
    assert TrainConfig(horizon=3).horizon == 3  # the dataset's only when not given
    with pytest.raises(SystemExit):
        parse_args(["--peephole", "diagonal"])  # choices from the field's metadata


@pytest.mark.parametrize(("fields", "message"), [
    ({"dataset": "hko"}, "dataset must be one of"),
    ({"teacher_forcing_start": -0.1}, "probability"),
    ({"data_chunk": 0}, "data_chunk must be at least 1"),
    ({"cuda_graph": True, "compile": "model"}, "--compile gates"),
    ({"cuda_graph": True, "device": "cpu"}, "needs a CUDA device"),
    ({"forecast_head": "objects"}, "train_objects"),
])
def test_configs_that_cannot_train_are_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**fields)


def test_the_context_can_be_supervised_only_through_the_pixel_head():
    assert parse_args(["--autoregressive", "--supervise-context"]).supervise_context
    with pytest.raises(ValueError, match="pixel head"):
        parse_args(["--supervise-context", "--forecast-head", "advection"])
