"""The exercises barenet writes kits for: one entry each, the first one the default.

An exercise is a folder of templates (``kits/<folder>/``) and the regions of
barenet's source that its learner writes, each with its task text
(:mod:`barenet.exercise.tasks`). A kit may show code that another exercise asks for
(the batch-norm kit's network uses the affine layer): regions that are not this
exercise's stay written in both of its kits. Two exercises may ask for the same
region, with the same task text.
"""

from __future__ import annotations

from dataclasses import dataclass

from barenet.exercise import tasks


@dataclass(frozen=True)
class Exercise:
    """One exercise that ``barenet exercise init --exercise NAME`` writes.

    Attributes
    ----------
    name : str
        What ``--exercise`` takes, e.g. ``'neural-networks'``.
    summary : str
        One line for ``barenet exercise list``.
    folder : str
        The templates' folder under ``barenet/exercise/kits/``.
    notebook : str
        The notebook the learner opens first, at the top of the kit.
    tasks : dict
        Region name to ``(title, task)``: what the learner writes.
    """

    name: str
    summary: str
    folder: str
    notebook: str
    tasks: dict[str, tuple[str, str]]


EXERCISES: dict[str, Exercise] = {
    exercise.name: exercise
    for exercise in (
        Exercise(
            name="neural-networks",
            summary="Sigmoid, ReLU, affine layer, SGD momentum",
            folder="neural_networks",
            notebook="1_neural_networks.ipynb",
            tasks=tasks.NEURAL_NETWORKS,
        ),
        Exercise(
            name="batchnorm-dropout",
            summary="batch norm, layer norm and dropout, both passes",
            folder="batchnorm_dropout",
            notebook="2_batchnorm_dropout.ipynb",
            tasks=tasks.BATCHNORM_DROPOUT,
        ),
        Exercise(
            name="cifar-classification",
            summary="a CIFAR-10 classifier, graded on hidden test images",
            folder="cifar_classification",
            notebook="3_cifar10.ipynb",
            tasks={},  # the learner writes the notebook's search and training, no library code
        ),
        Exercise(
            name="convnet",
            summary="convolution, max pooling, spatial batch/group norm",
            folder="convnet",
            notebook="4_convnet.ipynb",
            tasks=tasks.CONVNET,
        ),
    )
}

#: The exercise ``barenet exercise init`` writes when none is named.
DEFAULT_EXERCISE = "neural-networks"


def get_exercise(name: str) -> Exercise:
    """The exercise called ``name``.

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if name not in EXERCISES:
        raise ValueError(f"exercise must be one of {', '.join(EXERCISES)}; got {name!r}")
    return EXERCISES[name]


def all_tasks() -> dict[str, tuple[str, str]]:
    """Every exercise's tasks together: the regions any kit may meet."""
    return {
        region: task for exercise in EXERCISES.values() for region, task in exercise.tasks.items()
    }
