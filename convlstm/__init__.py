"""ConvLSTM (Shi et al., NeurIPS 2015): the cell, the stack, the encoding-forecasting network."""

from .cell import ConvLSTMCell
from .inference import CheckpointError, forecast, load_model
from .model import EncoderForecaster
from .stack import ConvLSTM

__all__ = ["CheckpointError", "ConvLSTM", "ConvLSTMCell", "EncoderForecaster", "forecast", "load_model"]
