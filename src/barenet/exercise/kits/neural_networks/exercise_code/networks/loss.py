"""Losses with one call form: ``loss, grad = loss_func(y_out, y_truth)``.

``CrossEntropyFromLogits`` takes the network's raw scores (logits) and integer
labels; it returns the mean loss over the batch, so its gradient already holds
the ``1 / N`` of the average.
"""

from __future__ import annotations

import numpy as np

# barenet-kit: include barenet.losses REDUCTIONS Loss _check_same_shape L1 MSE BCE


# barenet-kit: include barenet.losses _check_logits_and_labels log_softmax CrossEntropyFromLogits
