import numpy as np
import pytest
from sklearn.metrics import f1_score

from helpers.paths import PROJECT_ROOT
from helpers.training.metrics import classification_metrics, macro_f1


def sklearn_macro_f1(labels, predictions, num_classes):
    return float(f1_score(labels, predictions, average="macro", labels=list(range(num_classes)), zero_division=0))


@pytest.mark.parametrize("seed", range(20))
def test_macro_f1_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    num_classes = int(rng.integers(2, 12))
    size = int(rng.integers(1, 200))
    labels = rng.integers(0, num_classes, size)
    # mostly right, some classes never predicted, some never true: every branch of the formula
    predictions = np.where(rng.random(size) < 0.6, labels, rng.integers(0, num_classes, size))
    predictions[predictions == num_classes - 1] = 0
    assert macro_f1(labels, predictions, num_classes) == sklearn_macro_f1(labels, predictions, num_classes)


def test_macro_f1_edge_cases_equal_sklearn():
    cases = [
        ([0, 0, 0], [0, 0, 0], 3),        # two classes absent everywhere count as F1 0
        ([0, 1, 2], [2, 0, 1], 3),        # nothing right
        ([1], [1], 2),
        ([0, 1, 1, 2], [0, 1, 1, 2], 5),  # perfect on the classes present
    ]
    for labels, predictions, num_classes in cases:
        labels, predictions = np.array(labels), np.array(predictions)
        assert macro_f1(labels, predictions, num_classes) == sklearn_macro_f1(labels, predictions, num_classes)


def test_classification_metrics_of_nothing_are_nan():
    metrics = classification_metrics(np.array([], int), np.array([], int), 3)
    assert np.isnan(metrics["acc"]) and np.isnan(metrics["f1"])


def test_training_does_not_import_sklearn():
    import subprocess
    import sys

    code = "import sys, helpers.training.loop; print('sklearn' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
