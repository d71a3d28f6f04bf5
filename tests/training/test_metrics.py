import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix
from sklearn.metrics import f1_score, precision_recall_fscore_support

from helpers.paths import PROJECT_ROOT
from helpers.training.metrics import classification_metrics, confusion_matrix, macro_f1, per_class_scores


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


@pytest.mark.parametrize("seed", range(10))
def test_per_class_scores_and_confusion_matrix_equal_sklearn(seed):
    rng = np.random.default_rng(100 + seed)
    num_classes = int(rng.integers(2, 9))
    size = int(rng.integers(1, 120))
    labels = rng.integers(0, num_classes, size)
    predictions = np.where(rng.random(size) < 0.5, labels, rng.integers(0, num_classes, size))
    predictions[predictions == num_classes - 1] = 0          # a class never predicted: precision 0 by rule
    classes = list(range(num_classes))
    matrix = confusion_matrix(labels, predictions, num_classes)
    np.testing.assert_array_equal(matrix, sklearn_confusion_matrix(labels, predictions, labels=classes))
    scores = per_class_scores(labels, predictions, num_classes)
    expected = precision_recall_fscore_support(labels, predictions, labels=classes, zero_division=0)
    for name, values in zip(("precision", "recall", "f1", "support"), expected):
        np.testing.assert_allclose(scores[name], values, rtol=0, atol=1e-12, err_msg=name)


def test_a_prediction_outside_the_classes_still_counts_for_its_label_as_in_sklearn():
    labels, predictions = np.array([0, 1, 2, 2, 1]), np.array([0, 5, 2, 1, 1])
    scores = per_class_scores(labels, predictions, 3)
    expected = precision_recall_fscore_support(labels, predictions, labels=[0, 1, 2], zero_division=0)
    for name, values in zip(("precision", "recall", "f1", "support"), expected):
        np.testing.assert_allclose(scores[name], values, rtol=0, atol=1e-12, err_msg=name)
    assert scores["support"].tolist() == [1, 2, 2] and confusion_matrix(labels, predictions, 3).sum() == 4


def test_the_user_commands_do_not_import_sklearn():
    import subprocess
    import sys

    code = ("import sys, helpers.training.loop, helpers.train, helpers.evaluate, helpers.predict; "
            "print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
