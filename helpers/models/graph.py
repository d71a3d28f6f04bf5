"""Adjacency matrices derived from a skeleton `Layout` (pure numpy, float32).

Convention, used by every function here and by `helpers.models.stgcn`: `A[v, w]` is the
weight with which input joint `v` feeds output joint `w`, so a graph convolution
is `y[..., w] = sum_v x[..., v] * A[v, w]` (einsum `'...v,vw->...w'`).
Column normalisation (`normalize_columns`) therefore makes every output joint
the mean of the joints that feed it.

The ST-GCN "spatial" partition (Yan et al. 2018; PYSKL `Graph(mode='spatial')`)
splits each joint's neighbourhood into three subsets: the joint itself, the
joints closer to the root and the joints farther from it.
"""
from __future__ import annotations

import numpy as np

from helpers.data.layouts import Layout


def edges_to_matrix(edges, num_joints: int) -> np.ndarray:
    """Directed adjacency, shape (V, V): `A[src, dst] = 1` for each `(src, dst)` edge."""
    adjacency = np.zeros((num_joints, num_joints), dtype=np.float32)
    for src, dst in edges:
        adjacency[src, dst] = 1.0
    return adjacency


def self_links(layout: Layout) -> np.ndarray:
    """Identity, shape (V, V): each joint feeds itself."""
    return np.eye(layout.num_joints, dtype=np.float32)


def inward(layout: Layout) -> np.ndarray:
    """Child -> parent links (towards the root), shape (V, V): `A[child, parent] = 1`."""
    return edges_to_matrix(layout.edges, layout.num_joints)


def outward(layout: Layout) -> np.ndarray:
    """Parent -> child links (away from the root), shape (V, V): the transpose of `inward`."""
    return inward(layout).T.copy()


def neighbours(layout: Layout, with_self: bool = False) -> np.ndarray:
    """Undirected bone adjacency, shape (V, V), symmetric; optionally with self-links."""
    adjacency = inward(layout) + outward(layout)
    if with_self:
        adjacency = adjacency + self_links(layout)
    return adjacency


def normalize_columns(adjacency: np.ndarray) -> np.ndarray:
    """`A D^-1` with `D` the column sums, shape (..., V, V): non-empty columns sum to 1.

    Columns without any link (a joint nothing feeds) stay zero.
    """
    degree = adjacency.sum(axis=-2, keepdims=True)  # (..., 1, V)
    inv = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    return (adjacency * inv).astype(np.float32)


def normalize_symmetric(adjacency: np.ndarray) -> np.ndarray:
    """`D^-1/2 A D^-1/2` for a symmetric `A`, shape (V, V) (GCN of Kipf & Welling)."""
    degree = adjacency.sum(axis=0)  # (V,)
    inv_sqrt = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
    return (inv_sqrt[:, None] * adjacency * inv_sqrt[None, :]).astype(np.float32)


def spatial_partition(layout: Layout) -> np.ndarray:
    """ST-GCN spatial partition, shape (3, V, V): [self, inward, outward], each column-normalised.

    `sum(axis=0)` of the un-normalised parts is `neighbours(layout, with_self=True)`.
    """
    parts = [self_links(layout), normalize_columns(inward(layout)), normalize_columns(outward(layout))]
    return np.stack(parts).astype(np.float32)  # (3, V, V)


def uniform_partition(layout: Layout) -> np.ndarray:
    """Single-subset graph, shape (1, V, V): column-normalised neighbours plus self-links."""
    return normalize_columns(neighbours(layout, with_self=True))[None]
