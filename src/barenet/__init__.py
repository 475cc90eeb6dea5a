"""barenet: neural networks in plain NumPy, every gradient written by hand."""

from barenet.convnet import ThreeLayerConvNet
from barenet.data import (
    CIFAR10,
    ArrayDataset,
    BadImageError,
    ComposeTransform,
    DataLoader,
    Dataset,
    DigitsDataset,
    DownloadError,
    FlattenTransform,
    ImageFolderDataset,
    MemoryImageFolderDataset,
    NormalizeTransform,
    RandomCrop,
    RandomHorizontalFlip,
    RescaleTransform,
    compute_image_mean_and_std,
    download,
    download_and_unpack,
    load_digits,
)
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
from barenet.optim import (
    SGD,
    Adam,
    Optimizer,
    SGDMomentum,
    SGDNesterov,
    WarmupDecay,
    WeightAverage,
    adam,
    sgd,
    sgd_momentum,
    sgd_nesterov,
)
from barenet.sequential import Sequential
from barenet.solver import Solver, TrainingDivergedError
from barenet.tuning import findBestConfig, grid_search, random_search
from barenet.whitened_convnet import WhitenedConvNet

__version__ = "0.1.0"

# Names that load on first use, with the module that defines them: matplotlib is slow
# to import, and the grader brings its sandbox and cloudpickle, which a training run
# never needs.
_LAZY = {
    "plot_history": "barenet.plots",
    "plot_loss_curves": "barenet.plots",
    **dict.fromkeys(
        (
            "AffineTestWrapper",
            "BatchNormTestWrapper",
            "ConvTestWrapper",
            "DropoutTestWrapper",
            "GroupNormTestWrapper",
            "LayerNormTestWrapper",
            "MaxPoolTestWrapper",
            "ReluTestWrapper",
            "SGDMTestWrapper",
            "SigmoidTestWrapper",
            "SpatialBatchNormTestWrapper",
            "check_file",
            "grade_folder",
            "grade_submission",
            "save_pickle",
            "submit_exercise",
        ),
        "barenet.grading",
    ),
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'barenet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Adam",
    "AffineTestWrapper",
    "ArrayDataset",
    "BCE",
    "BadImageError",
    "BatchNormTestWrapper",
    "CIFAR10",
    "ClassificationNet",
    "ComposeTransform",
    "ConvTestWrapper",
    "CrossEntropyFromLogits",
    "DataLoader",
    "Dataset",
    "DigitsDataset",
    "DownloadError",
    "Dropout",
    "DropoutTestWrapper",
    "FlattenTransform",
    "GetHumanReadable",
    "GroupNormTestWrapper",
    "ImageFolderDataset",
    "L1",
    "LayerNormTestWrapper",
    "LeakyRelu",
    "Loss",
    "MSE",
    "MaxPoolTestWrapper",
    "MemoryImageFolderDataset",
    "Network",
    "NormalizeTransform",
    "Optimizer",
    "RandomCrop",
    "RandomHorizontalFlip",
    "Relu",
    "ReluTestWrapper",
    "RescaleTransform",
    "SGD",
    "SGDMTestWrapper",
    "SGDMomentum",
    "SGDNesterov",
    "Sigmoid",
    "SigmoidTestWrapper",
    "Solver",
    "SpatialBatchNormTestWrapper",
    "Tanh",
    "TrainingDivergedError",
    "WarmupDecay",
    "WeightAverage",
    "adam",
    "affine_backward",
    "affine_forward",
    "affine_param_grads",
    "check_file",
    "compute_image_mean_and_std",
    "compute_network_size",
    "download",
    "download_and_unpack",
    "eval_numerical_gradient",
    "findBestConfig",
    "eval_numerical_gradient_array",
    "grade_folder",
    "grade_submission",
    "grid_search",
    "human_readable_size",
    "load_digits",
    "log_softmax",
    "network_size_breakdown",
    "plot_history",
    "plot_loss_curves",
    "random_search",
    "rel_error",
    "save_pickle",
    "sgd",
    "sgd_momentum",
    "sgd_nesterov",
    "submit_exercise",
    "Sequential",
    "ThreeLayerConvNet",
    "WhitenedConvNet",
]
