"""Can anything be learned from a run's clips?  Checked before training writes anything.

Data that cannot teach a classifier (one class, no keypoint at all) is refused;
data that trains but whose numbers would mislead (empty clips, classes without a
training clip, one-class validation) gets a warning line on stderr.
"""
from __future__ import annotations

import sys

from helpers.data.dataset import SkeletonDataset
from helpers.data.splits import Splits
from helpers.errors import UserInputError, printable


def _is_empty(clip: dict) -> bool:
    """No keypoint seen: every coordinate zero (detectors fill missing persons so), or every score zero."""
    return not clip["keypoint"].any() or not clip["keypoint_score"].any()


def _names(dataset: SkeletonDataset, labels) -> str:
    names = [dataset.class_names[label] for label in sorted(labels)]
    return printable(", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else ""))


def learnability_problems(dataset: SkeletonDataset, splits: Splits) -> tuple[list[str], list[str]]:
    """(reasons to refuse training, warnings) for training on `splits.train`, validating on `splits.val`."""
    refuse, warn = [], []
    train = [dataset.clip(i) for i in splits.train]
    labels = {clip["label"] for clip in train}
    if not train:
        refuse.append("the training split is empty")
    elif dataset.num_classes < 2:
        refuse.append(f"the data has one class ({_names(dataset, range(dataset.num_classes))}): "
                      "a classifier has nothing to tell apart")
    elif len(labels) < 2:
        refuse.append(f"every training clip is of one class ({_names(dataset, labels)}): "
                      "a classifier has nothing to tell apart")
    empty = sum(_is_empty(clip) for clip in train)
    if train and empty == len(train):
        refuse.append(f"none of the {len(train)} training clips has a keypoint (all coordinates or all scores "
                      "are zero): there is nothing to learn from")
    elif empty:
        warn.append(f"{empty} of {len(train)} training clips have no keypoint (all coordinates or all scores "
                    "zero); they teach nothing")
    if not refuse:
        absent = set(range(dataset.num_classes)) - labels
        if absent:
            warn.append(f"{len(absent)} class(es) have no training clip and can never be predicted: "
                        f"{_names(dataset, absent)}")
        val_labels = {dataset.clip(i)["label"] for i in splits.val}
        if len(val_labels) == 1:
            warn.append(f"every validation clip is of one class ({_names(dataset, val_labels)}): validation "
                        "accuracy and macro-F1 (which choose best.pt) say little")
    return refuse, warn


def check_learnable(dataset: SkeletonDataset, splits: Splits, warn: bool = True) -> None:
    """Raise UserInputError where nothing can be learned; print a warning line for each lesser problem
    (when `warn`: under torchrun only the first process does)."""
    refuse, warnings = learnability_problems(dataset, splits)
    if refuse:
        raise UserInputError(f"{dataset.source}: cannot train: {refuse[0]}")
    for line in warnings if warn else ():
        print(f"warning: {printable(dataset.source)}: {line}", file=sys.stderr, flush=True)
