"""Input streams derived from a skeleton `Layout`: joints, bones and their motion.

Every function takes coordinates shaped `(..., T, V, C)` (any leading axes such
as persons or batch) and returns the same shape.  They only use slicing and
arithmetic, so they work on numpy arrays and on torch tensors alike;
`stack_streams` concatenates along the last (channel) axis.
"""
from __future__ import annotations

import numpy as np

from helpers.data.layouts import Layout


def _zeros_like(x):
    return x.new_zeros(x.shape) if hasattr(x, "new_zeros") else np.zeros_like(x)


def joints(x, layout: Layout):
    """The joint coordinates themselves, shape (..., T, V, C)."""
    return x


def bones(x, layout: Layout):
    """Each joint minus its parent in the layout's tree, shape (..., T, V, C); the root bone is 0."""
    parents = layout.parents()  # (V,); the root is its own parent
    return x - x[..., parents, :]


def motion(x):
    """Frame-to-frame difference `x[t+1] - x[t]`, shape (..., T, V, C); the last frame is 0."""
    out = _zeros_like(x)
    out[..., :-1, :, :] = x[..., 1:, :, :] - x[..., :-1, :, :]
    return out


def joint_motion(x, layout: Layout):
    """Motion of the joints, shape (..., T, V, C)."""
    return motion(joints(x, layout))


def bone_motion(x, layout: Layout):
    """Motion of the bones, shape (..., T, V, C)."""
    return motion(bones(x, layout))


STREAMS = {
    "joint": joints,
    "bone": bones,
    "joint_motion": joint_motion,
    "bone_motion": bone_motion,
}


def stack_streams(x, layout: Layout, names=("joint",)):
    """The streams called `names` concatenated on channels: (..., T, V, C) -> (..., T, V, C * len(names))."""
    unknown = [name for name in names if name not in STREAMS]
    if unknown:
        raise ValueError(f"unknown streams {unknown}; known: {', '.join(STREAMS)}")
    parts = [STREAMS[name](x, layout) for name in names]
    if hasattr(x, "new_zeros"):  # torch tensor
        import torch  # here, not at the top: numpy callers (ONNX prediction) run without torch

        return torch.cat(parts, dim=-1)
    return np.concatenate(parts, axis=-1)
