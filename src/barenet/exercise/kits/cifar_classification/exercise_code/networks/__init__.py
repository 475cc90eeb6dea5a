"""The network you train and hand in, and the loss it trains with."""

from barenet.losses import CrossEntropyFromLogits

from .classification_net import ClassificationNet

__all__ = ["ClassificationNet", "CrossEntropyFromLogits"]
