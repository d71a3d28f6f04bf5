"""Classification metrics on label arrays: accuracy and macro-F1 (no sklearn import)."""
from __future__ import annotations

import numpy as np


def macro_f1(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> float:
    """Mean over classes 0..K-1 of F1 = 2 TP / (2 TP + FP + FN), 0 for a class never true nor predicted.

    The same number as sklearn's `f1_score(labels, predictions, average="macro",
    labels=range(K), zero_division=0)`, computed here so that training does not
    import sklearn (about 100 MiB of memory).  labels, predictions: (N,) ints.
    """
    labels, predictions = np.asarray(labels).ravel(), np.asarray(predictions).ravel()

    def count(values: np.ndarray) -> np.ndarray:  # (K,) occurrences of each class; other values ignored
        values = values[(values >= 0) & (values < num_classes)]
        return np.bincount(values.astype(np.int64), minlength=num_classes)

    true_positives = count(labels[labels == predictions])
    denominator = (count(labels) + count(predictions)).astype(np.float64)  # 2 TP + FP + FN
    f1 = np.divide(2.0 * true_positives, denominator, out=np.zeros(num_classes), where=denominator > 0)
    return float(f1.mean())


def classification_metrics(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> dict:
    return {
        "acc": float((labels == predictions).mean()) if len(labels) else float("nan"),
        "f1": macro_f1(labels, predictions, num_classes) if len(labels) else float("nan"),
    }
