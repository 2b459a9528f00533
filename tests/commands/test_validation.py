"""The validation score a run keeps its best checkpoint by."""

import torch

from convlstm.commands.train import make_model, parse_args
from convlstm.commands.train_data import make_data
from convlstm.commands.validation import validate


def test_validation_scores_the_networks_own_output_even_where_the_checkpoint_matches(one_torch_thread):
    config = parse_args(["--dataset", "radar", "--forecast-head", "advection", "--hidden-channels", "8",
                         "--eval-sequences", "4", "--probability-matching"])
    torch.manual_seed(0)
    matched = make_model(config)
    _, val = make_data(config, torch.device("cpu"), rank=0)
    plain = make_model(config)
    plain.load_state_dict(matched.state_dict())
    plain.probability_matching = False
    assert validate(matched, val, config) == validate(plain, val, config)
    assert matched.probability_matching  # the checkpoint keeps its own choice
