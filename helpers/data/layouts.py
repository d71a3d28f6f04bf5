"""Skeleton layouts: the one place where joints, bones and body parts are declared.

Every other module (normalisation, augmentation, graph models, drawing) reads a
`Layout`; no other file lists joint indices.  A layout is data, in the spirit of
PYSKL's `graph.py`: joint names, inward edges (child -> parent, towards the
centre), the centre joint(s), left/right pairs and the torso pairs used for scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.errors import UserInputError


@dataclass(frozen=True)
class Layout:
    name: str
    joint_names: tuple[str, ...]
    # (child, parent) pairs pointing towards the root; every joint but the root
    # appears exactly once as a child, so edges form a tree.
    edges: tuple[tuple[int, int], ...]
    # joints whose mean is the body centre (mid-hip for COCO-17)
    center: tuple[int, ...]
    # (left, right) joint pairs, swapped by a horizontal flip
    left_right: tuple[tuple[int, int], ...]
    # (shoulder, hip) pairs whose mean length is the body scale
    torso: tuple[tuple[int, int], ...]

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def root(self) -> int:
        children = {c for c, _ in self.edges}
        (root,) = [j for j in range(self.num_joints) if j not in children]
        return root

    def parents(self) -> np.ndarray:
        """Parent index per joint, shape (V,); the root is its own parent."""
        parent = np.arange(self.num_joints)
        for child, par in self.edges:
            parent[child] = par
        return parent

    def joint_sides(self) -> tuple[str, ...]:
        """'left', 'right' or 'centre' per joint, from `left_right` (for drawing by body side)."""
        sides = ["centre"] * self.num_joints
        for left, right in self.left_right:
            sides[left], sides[right] = "left", "right"
        return tuple(sides)

    def flip_permutation(self) -> np.ndarray:
        """Joint permutation, shape (V,), that swaps every left joint with its right twin."""
        perm = np.arange(self.num_joints)
        for left, right in self.left_right:
            perm[left], perm[right] = right, left
        return perm


COCO17 = Layout(
    name="coco17",
    joint_names=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    # rooted at the nose, as PYSKL's 'coco' layout (centre joint 0 for the graph);
    # the normalisation centre is still mid-hip (`center`).
    edges=(
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6),
        (9, 7), (7, 5), (10, 8), (8, 6), (5, 0), (6, 0),
        (1, 0), (3, 1), (2, 0), (4, 2),
    ),
    center=(11, 12),
    left_right=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    torso=((5, 11), (6, 12)),
)

JHMDB15 = Layout(
    name="jhmdb15",
    joint_names=(
        "neck", "belly", "face", "right_shoulder", "left_shoulder",
        "right_hip", "left_hip", "right_elbow", "left_elbow",
        "right_knee", "left_knee", "right_wrist", "left_wrist",
        "right_ankle", "left_ankle",
    ),
    # rooted at the belly
    edges=(
        (0, 1), (2, 0), (3, 0), (4, 0), (5, 1), (6, 1),
        (7, 3), (8, 4), (11, 7), (12, 8),
        (9, 5), (10, 6), (13, 9), (14, 10),
    ),
    center=(5, 6),
    left_right=((4, 3), (6, 5), (8, 7), (10, 9), (12, 11), (14, 13)),
    torso=((3, 5), (4, 6)),
)

OPENPOSE18 = Layout(
    name="openpose18",
    joint_names=(
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
        "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee",
        "right_ankle", "left_hip", "left_knee", "left_ankle",
        "right_eye", "left_eye", "right_ear", "left_ear",
    ),
    # rooted at the neck, as ST-GCN's 'openpose' layout
    edges=(
        (4, 3), (3, 2), (7, 6), (6, 5), (13, 12), (12, 11), (10, 9), (9, 8),
        (11, 1), (8, 1), (5, 1), (2, 1), (0, 1), (15, 0), (14, 0), (17, 15), (16, 14),
    ),
    center=(8, 11),
    left_right=((5, 2), (6, 3), (7, 4), (11, 8), (12, 9), (13, 10), (15, 14), (17, 16)),
    torso=((2, 8), (5, 11)),
)

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (COCO17, JHMDB15, OPENPOSE18)}


def get_layout(name: str) -> Layout:
    """The layout called `name` (case-insensitive); a clear error lists the known ones."""
    if not isinstance(name, str):
        raise ValueError(f"a layout is named by a string, got {type(name).__name__}; known layouts: "
                         f"{', '.join(LAYOUTS)}")
    key = name.lower().replace("-", "").replace("_", "")
    if key not in LAYOUTS:
        raise ValueError(f"unknown skeleton layout {name!r}; known layouts: {', '.join(LAYOUTS)}")
    return LAYOUTS[key]


def layout_for_joint_count(num_joints: int) -> Layout:
    """The layout with `num_joints` joints; an unknown count says how to name a layout."""
    matches = [layout for layout in LAYOUTS.values() if layout.num_joints == num_joints]
    if not matches:
        known = ", ".join(f"{l.name} ({l.num_joints} joints)" for l in LAYOUTS.values())
        raise ValueError(
            f"no known skeleton layout has {num_joints} joints (known: {known}); "
            "name one with --layout, or declare a new Layout in helpers/data/layouts.py"
        )
    return matches[0]


def check_data_fits(layout: Layout, source: str, num_joints: int, layout_name: str | None, model: str) -> None:
    """Refuse data whose skeleton (joint count, layout if known) differs from `layout`, the one
    that `model` (a checkpoint or exported file, named in the error) was trained on."""
    if num_joints != layout.num_joints or (layout_name is not None and layout_name != layout.name):
        found = f"layout {layout_name} ({num_joints} joints)" if layout_name else f"{num_joints} joints"
        raise UserInputError(f"{source}: data has {found} but {model} was trained on "
                             f"layout {layout.name} ({layout.num_joints} joints)")
