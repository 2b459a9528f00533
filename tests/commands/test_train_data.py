"""What a run trains on: the stream of batches, also when made several batches at a time."""

import pytest
import torch

from convlstm.commands.train_config import TrainConfig
from convlstm.commands.train_data import make_stream


@pytest.mark.usefixtures("one_torch_thread")
def test_chunked_data_is_the_larger_batches_cut_up():
    config = TrainConfig(batch_size=3, data_chunk=4)
    chunked = make_stream(config, torch.device("cpu"))
    whole = make_stream(TrainConfig(batch_size=12), torch.device("cpu"))
    first = next(whole)
    torch.testing.assert_close(torch.cat([next(chunked) for _ in range(4)]), first, rtol=0, atol=0)
    assert next(chunked).shape == (3, 20, 64, 64)
