"""Hand-made features of a skeleton clip for the classical models: free of position, scale and frame rate.

From the main person's normalised joints (centred on the body, divided by the torso
length; `helpers.transforms.preprocess`) resampled to T frames (so a clip's frame
rate drops out), per clip:

  - distances of all joint pairs, divided by their clip mean (the DD-Net style
    model's scale-free description, `helpers.data.geometry`): mean over each of S
    equal time segments, std over the clip, last segment minus first;
  - joint coordinates: segment means, std over the clip, last segment minus first
    (where the body goes: sitting down and standing up differ only there);
  - joint angles: at every joint, between each two of its skeleton neighbours,
    cosine and sine per segment (signed, so a mirror image differs);
  - bone directions (unit vectors) per segment;
  - motion: per joint the speed (length of the frame-to-frame step) as mean, std and
    max over the clip, and the mean velocity per segment.

Segments keep the order of events in time, which pooled statistics lose.  Everything
works on torch tensors, so one function serves fitting and inference (same numbers).
Shapes: N clips, C channels (x, y first), T frames, V joints, M persons, S segments,
P = V(V-1)/2 joint pairs, A angles, B bones.
"""
from __future__ import annotations

import numpy as np
import torch

from helpers.data.geometry import joint_pair_distances
from helpers.data.layouts import Layout


def angle_triples(layout: Layout) -> np.ndarray:
    """(A, 3) rows (joint, neighbour a, neighbour b): every two skeleton neighbours of every joint."""
    neighbours: dict[int, list[int]] = {j: [] for j in range(layout.num_joints)}
    for child, parent in layout.edges:
        neighbours[child].append(parent)
        neighbours[parent].append(child)
    rows = [(j, a, b) for j in range(layout.num_joints) for i, a in enumerate(sorted(neighbours[j]))
            for b in sorted(neighbours[j])[i + 1:]]
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def _length(v: torch.Tensor) -> torch.Tensor:
    """(..., 2) -> (...): Euclidean length (torch.hypot: far faster than a norm over a last axis of 2)."""
    return torch.hypot(v[..., 0], v[..., 1])


def _segment_means(x: torch.Tensor, segments: int) -> torch.Tensor:
    """(N, T, D) -> (N, S * D): the mean of each of `segments` near-equal runs of frames."""
    return torch.cat([part.mean(dim=1) for part in torch.tensor_split(x, segments, dim=1)], dim=1)


def _clip_stats(x: torch.Tensor, segments: int) -> list[torch.Tensor]:
    """(N, T, D) -> [segment means (N, S*D), std over frames (N, D), last minus first segment (N, D)]."""
    parts = torch.tensor_split(x, segments, dim=1)
    return [_segment_means(x, segments), x.std(dim=1, unbiased=False), parts[-1].mean(1) - parts[0].mean(1)]


def skeleton_features(x: torch.Tensor, layout: Layout, segments: int = 4) -> torch.Tensor:
    """Model input (N, C, T, V, M) -> features (N, F) float32, F = `feature_count(layout, segments)`.

    Uses person 0 and channels 0-1 (x, y); computed in float64, rounded to float32 as
    scikit-learn's trees read them.
    """
    joints = x[:, :2, :, :, 0].permute(0, 2, 3, 1).double()                 # (N, T, V, 2)
    n, t = joints.shape[:2]
    if t < segments:
        raise ValueError(f"clips of {t} frames cannot form {segments} time segments; raise preprocess.length")
    distances = joint_pair_distances(joints, eps=1e-12)                     # (N, T, P)
    distances = distances / distances.mean(dim=(1, 2), keepdim=True).clamp_min(1e-9)
    coords = joints.reshape(n, t, -1)                                       # (N, T, 2V)

    triples = torch.from_numpy(angle_triples(layout))
    a = joints[:, :, triples[:, 1]] - joints[:, :, triples[:, 0]]           # (N, T, A, 2)
    b = joints[:, :, triples[:, 2]] - joints[:, :, triples[:, 0]]
    cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    dot = (a * b).sum(-1)
    norm = (_length(a) * _length(b)).clamp_min(1e-9)
    angles = torch.cat([dot / norm, cross / norm], dim=-1)                  # (N, T, 2A)

    children = torch.tensor([c for c, _ in layout.edges])
    parents = torch.tensor([p for _, p in layout.edges])
    bones = joints[:, :, children] - joints[:, :, parents]                  # (N, T, B, 2)
    directions = (bones / _length(bones)[..., None].clamp_min(1e-9)).reshape(n, t, -1)

    velocity = joints[:, 1:] - joints[:, :-1]                               # (N, T-1, V, 2)
    speed = _length(velocity)                                               # (N, T-1, V)
    parts = [*_clip_stats(distances, segments), *_clip_stats(coords, segments),
             _segment_means(angles, segments), _segment_means(directions, segments),
             speed.mean(1), speed.std(1, unbiased=False), speed.amax(1),
             _segment_means(velocity.reshape(n, t - 1, -1), segments)]
    return torch.cat(parts, dim=1).float()


def feature_count(layout: Layout, segments: int = 4) -> int:
    """F, the length of one clip's feature vector."""
    v, s = layout.num_joints, segments
    pairs, angles, bones = v * (v - 1) // 2, len(angle_triples(layout)), len(layout.edges)
    return (s + 2) * pairs + (s + 2) * 2 * v + s * 2 * angles + s * 2 * bones + 3 * v + s * 2 * v
