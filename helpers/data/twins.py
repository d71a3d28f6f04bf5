"""Body-shape twins: clips that likely show the same person in the same video, found without names.

When a data set cuts several clips from one source video but its clip ids do not
say which (the DD-Net JHMDB pickles), a random validation carve-out puts some of a
video's clips in training and others in validation, and validation overrates
test.  `body_shape` describes a clip by its scale-free joint-pair distances (the
person's proportions and typical posture); `twin_groups` links clips of one class
that are mutual 2-nearest neighbours in that description and returns the linked
components, so a carve-out can hold whole groups out (`data.val_groups:
body_shape`).  Two neighbours: the value whose carve-outs lie as far from their
nearest training clip as JHMDB's test clips do (1 links too little, 3 too much;
README, JHMDB section).
"""
from __future__ import annotations

import numpy as np

from helpers.data.dataset import SkeletonDataset
from helpers.data.geometry import joint_pair_distances

TWIN_NEIGHBOURS = 2


def body_shape(keypoint: np.ndarray) -> np.ndarray:
    """keypoint (T, V, 2) -> (V * (V - 1),): per joint pair, the mean and the std over frames of their
    distance divided by the frame's mean pair distance (so the size of the person in the image drops out)."""
    distances = joint_pair_distances(keypoint.astype(np.float64))                 # (T, P)
    distances = distances / np.maximum(distances.mean(axis=1, keepdims=True), 1e-9)
    return np.concatenate([distances.mean(axis=0), distances.std(axis=0)])


def clip_shapes(dataset: SkeletonDataset, ids: list[str]) -> np.ndarray:
    """(len(ids), V * (V - 1)): `body_shape` of the first person of each clip."""
    return np.stack([body_shape(dataset.clip(i)["keypoint"][0]) for i in ids])


def pairwise_distances(queries: np.ndarray, references: np.ndarray) -> np.ndarray:
    """(Q, D), (R, D) -> (Q, R) Euclidean distances."""
    squared = (queries ** 2).sum(1)[:, None] + (references ** 2).sum(1)[None] - 2 * queries @ references.T
    return np.sqrt(np.maximum(squared, 0.0))


def twin_groups(shapes: np.ndarray, labels: np.ndarray, neighbours: int = TWIN_NEIGHBOURS) -> np.ndarray:
    """shapes (N, D), labels (N,) -> (N,) group number: connected components of the links between clips of
    one class that are each among the other's `neighbours` nearest same-class clips."""
    distances = pairwise_distances(shapes, shapes)
    distances[labels[:, None] != labels[None]] = np.inf
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :neighbours]       # (N, k)
    is_near = np.zeros(distances.shape, dtype=bool)
    is_near[np.arange(len(shapes))[:, None], nearest] = True
    linked = is_near & is_near.T & np.isfinite(distances)
    group = -np.ones(len(shapes), dtype=int)
    for start in range(len(shapes)):
        if group[start] >= 0:
            continue
        group[start], stack = start, [start]
        while stack:
            for other in np.flatnonzero(linked[stack.pop()]):
                if group[other] < 0:
                    group[other] = start
                    stack.append(other)
    return group
