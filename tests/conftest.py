import pytest
import torch

from convlstm import EncoderForecaster
from convlstm.serve.requests import moving_mnist_sequence


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def one_torch_thread():
    # Small torch ops on a busy 2-core machine: two OpenMP threads wait on each other and run
    # 5-20× slower than one.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model():
    """A small untrained Moving MNIST model (64×64 frames, 10 in, 10 out), shared by a test file's tests."""
    return EncoderForecaster(hidden_channels=[8], kernel_size=3).eval()


@pytest.fixture(scope="module")
def sequence():
    return moving_mnist_sequence(seed=3, digits=2, frames=20)  # (20, 64, 64)


@pytest.fixture
def h5py():
    return pytest.importorskip("h5py", reason="h5py (requirements-radar.txt) reads HDF5 composites")
