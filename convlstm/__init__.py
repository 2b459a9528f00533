"""ConvLSTM (Shi et al., NeurIPS 2015): the cell, the stack, the encoding-forecasting network.

Layers, each importing only those below it: ``core`` (the model, checkpoints, forecasting);
``data`` (Moving MNIST, synthetic radar, uploads, radar composites), ``scoring`` (metrics,
baselines, the comparison) and ``viz`` (pictures and animations), which don't import each other;
``commands`` (training and the evaluations) and ``serve`` (the web app's backend) on top.
"""

from .core.cell import ConvLSTMCell
from .core.checkpoint import CheckpointError, load_model
from .core.inference import forecast
from .core.model import EncoderForecaster
from .core.stack import ConvLSTM

__all__ = ["CheckpointError", "ConvLSTM", "ConvLSTMCell", "EncoderForecaster", "forecast", "load_model"]
