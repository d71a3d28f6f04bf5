"""Geometry of one skeleton frame shared by data checks and models: distances between joint pairs."""
from __future__ import annotations

import numpy as np


def joint_pair_distances(x, eps: float = 0.0):
    """(..., V, C) -> (..., V(V-1)/2): the distance between every pair of joints i < j (row by row, as
    `np.triu_indices`), computed as sqrt(squared distance + eps); `eps` > 0 keeps the root's gradient finite."""
    rows, cols = np.triu_indices(x.shape[-2], 1)
    squared = ((x[..., rows, :] - x[..., cols, :]) ** 2).sum(-1) + eps
    return squared.sqrt() if hasattr(squared, "sqrt") else np.sqrt(squared)
