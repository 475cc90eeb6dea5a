"""barenet: neural networks in plain NumPy, every gradient written by hand."""

from barenet.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error
from barenet.layers import (
    Dropout,
    LeakyRelu,
    Relu,
    Sigmoid,
    Tanh,
    affine_backward,
    affine_forward,
    affine_param_grads,
)
from barenet.losses import BCE, L1, MSE, CrossEntropyFromLogits, Loss, log_softmax
from barenet.memory import (
    GetHumanReadable,
    compute_network_size,
    human_readable_size,
    network_size_breakdown,
)
from barenet.networks import ClassificationNet, Network
from barenet.optim import SGD, Adam, Optimizer, SGDMomentum, adam, sgd, sgd_momentum
from barenet.solver import Solver, TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    "BCE",
    "L1",
    "MSE",
    "SGD",
    "Adam",
    "ClassificationNet",
    "CrossEntropyFromLogits",
    "Dropout",
    "GetHumanReadable",
    "LeakyRelu",
    "Loss",
    "Network",
    "Optimizer",
    "Relu",
    "SGDMomentum",
    "Sigmoid",
    "Solver",
    "Tanh",
    "TrainingDivergedError",
    "adam",
    "affine_backward",
    "affine_forward",
    "affine_param_grads",
    "compute_network_size",
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "human_readable_size",
    "log_softmax",
    "network_size_breakdown",
    "rel_error",
    "sgd",
    "sgd_momentum",
]
