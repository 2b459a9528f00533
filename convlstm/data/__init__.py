"""What the models are trained and tested on, and what people bring: Moving MNIST from real MNIST
digits, synthetic radar, uploaded frame sequences (one reader over format decoders, with its
limits), rain rates from radar uploads, and real radar composites."""

from .mnist import MovingMNISTStream, evaluation_set, load_sequences, moving_mnist

__all__ = ["MovingMNISTStream", "evaluation_set", "load_sequences", "moving_mnist"]
