"""Classification metrics on label arrays: accuracy, macro-F1, per-class scores and the confusion
matrix, in numpy (the training loop and the user commands do not import sklearn: about 100 MiB of
memory and a second of start-up)."""
from __future__ import annotations

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) int64 counts: row = true class, column = predicted class; pairs outside 0..K-1 are ignored.

    The same matrix as sklearn's `confusion_matrix(labels, predictions, labels=range(K))`.
    labels, predictions: (N,) ints.
    """
    labels = np.asarray(labels, dtype=np.int64).ravel()
    predictions = np.asarray(predictions, dtype=np.int64).ravel()
    inside = (labels >= 0) & (labels < num_classes) & (predictions >= 0) & (predictions < num_classes)
    cells = labels[inside] * num_classes + predictions[inside]
    return np.bincount(cells, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_scores(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> dict[str, np.ndarray]:
    """Precision, recall, F1 ((K,) floats, 0 where undefined) and support ((K,) ints) of classes 0..K-1.

    The same numbers as sklearn's `precision_recall_fscore_support(labels, predictions,
    labels=range(K), zero_division=0)`: a clip whose label or prediction lies outside
    0..K-1 still counts for the other.  labels, predictions: (N,) ints.
    """
    labels, predictions = np.asarray(labels).ravel(), np.asarray(predictions).ravel()

    def count(values: np.ndarray) -> np.ndarray:  # (K,) occurrences of each class; other values ignored
        values = values[(values >= 0) & (values < num_classes)]
        return np.bincount(values.astype(np.int64), minlength=num_classes)

    true_positives = count(labels[labels == predictions]).astype(np.float64)
    support, predicted = count(labels), count(predictions)

    def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        denominator = denominator.astype(np.float64)
        return np.divide(numerator, denominator, out=np.zeros(num_classes), where=denominator > 0)

    return {"precision": ratio(true_positives, predicted), "recall": ratio(true_positives, support),
            "f1": ratio(2.0 * true_positives, support + predicted),   # 2 TP / (2 TP + FP + FN)
            "support": support}


def macro_f1(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> float:
    """Mean over classes 0..K-1 of F1 = 2 TP / (2 TP + FP + FN), 0 for a class never true nor predicted.

    The same number as sklearn's `f1_score(labels, predictions, average="macro",
    labels=range(K), zero_division=0)`.  labels, predictions: (N,) ints.
    """
    return float(per_class_scores(labels, predictions, num_classes)["f1"].mean())


def classification_metrics(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> dict:
    return {
        "acc": float((labels == predictions).mean()) if len(labels) else float("nan"),
        "f1": macro_f1(labels, predictions, num_classes) if len(labels) else float("nan"),
    }
