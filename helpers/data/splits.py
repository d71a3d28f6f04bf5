"""Leak-free train / validation / test splits.

Test is always the file's own test split.  Validation is carved out of the
file's training split, never out of test, grouped by the UCF101 group id (`gXX`
in `v_Name_gXX_cYY`): UCF101 clips of one group come from one long video, so a
group on both sides would leak.  Ids without a group fall back to a stratified
split, or, with `data.val_groups: body_shape`, to groups of body-shape twins
(`helpers.data.twins`) for data whose ids do not name the video.  Everything is
deterministic from the seed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from helpers.data.dataset import SkeletonDataset
from helpers.errors import UserInputError
from helpers.data.twins import clip_shapes, twin_groups

_GROUP = re.compile(r"_g(\d+)_c\d+$")


def group_of(frame_dir: str) -> str | None:
    """The group id of a UCF-style clip id ('v_Name_g08_c01' -> 'g08'), or None."""
    match = _GROUP.search(frame_dir)
    return f"g{int(match.group(1)):02d}" if match else None


@dataclass
class Splits:
    """Clip ids of the three sides; `protocol` says how they were made."""

    train: list[str]
    val: list[str]
    test: list[str]
    protocol: str

    def as_dict(self) -> dict:
        return {"train": self.train, "val": self.val, "test": self.test, "protocol": self.protocol}


def _stratified_holdout(ids: list[str], labels: list[int], fraction: float, rng: np.random.Generator) -> set[str]:
    """About `fraction` of each class, at least one clip of each class with two or more clips."""
    val = set()
    by_class: dict[int, list[str]] = {}
    for clip_id, label in zip(ids, labels):
        by_class.setdefault(label, []).append(clip_id)
    for label in sorted(by_class):
        members = sorted(by_class[label])
        if len(members) < 2:
            continue
        take = min(len(members) - 1, max(1, round(fraction * len(members))))
        val.update(rng.permutation(members)[:take].tolist())
    return val


def _grouped_holdout(ids: list[str], fraction: float, rng: np.random.Generator,
                     group: Callable[[str], str | None] = group_of) -> set[str]:
    """Whole groups, in a seeded random order, until about `fraction` of the clips are in val."""
    groups: dict[str, list[str]] = {}
    for clip_id in ids:
        groups.setdefault(group(clip_id), []).append(clip_id)
    order = rng.permutation(sorted(groups)).tolist()
    target = fraction * len(ids)
    val: set[str] = set()
    for name in order:
        if len(val) >= target or len(val) + len(groups[name]) >= len(ids):
            break
        val.update(groups[name])
    return val


def holdout(ids: list[str], labels: list[int], fraction: float, seed: int,
            group: Callable[[str], str | None] = group_of, groups_within_class: bool = False) -> set[str]:
    """About `fraction` of `ids` to hold out: whole groups for grouped ids (`group`: id -> group or None;
    UCF101 gXX by default), stratified for the rest.  With `groups_within_class` (each group holds one
    class, as body-shape twins do) the groups are drawn class by class, so every class gets its share.

    Deterministic from `seed`; a group never ends up on both sides.
    """
    rng = np.random.default_rng(seed)
    grouped = [(i, label) for i, label in zip(ids, labels) if group(i) is not None]
    ungrouped = [(i, label) for i, label in zip(ids, labels) if group(i) is None]
    held: set[str] = set()
    classes = sorted({label for _, label in grouped}) if groups_within_class else [None]
    for label in classes:
        members = [i for i, other in grouped if label is None or other == label]
        held |= _grouped_holdout(members, fraction, rng, group) if members else set()
    if ungrouped:
        held |= _stratified_holdout([i for i, _ in ungrouped], [label for _, label in ungrouped], fraction, rng)
    return held


def twin_group_function(dataset: SkeletonDataset, ids: list[str]) -> Callable[[str], str]:
    """id -> body-shape twin group ('twin<N>') of the clips `ids` (first person of each clip)."""
    groups = twin_groups(clip_shapes(dataset, ids), np.array([dataset.clip(i)["label"] for i in ids]))
    names = {clip_id: f"twin{g}" for clip_id, g in zip(ids, groups)}
    return names.__getitem__


def make_splits(dataset: SkeletonDataset, split_number: int | str = 1, val_fraction: float = 0.2,
                seed: int = 0, train_fraction: float = 1.0, val_groups: str = "name") -> Splits:
    """train/val/test ids for the file's `train<N>` / `test<N>` splits.

    Validation takes about `val_fraction` of train<N>: whole UCF101 groups for
    grouped ids, a stratified sample for the rest; with `val_groups='body_shape'`
    whole groups of body-shape twins for ids without a gXX group.  `train_fraction` < 1 then keeps
    about that share of the remaining training clips (the same way, by group or
    stratified), for learning curves; validation and test do not change with it.
    """
    train_name, test_name = f"train{split_number}", f"test{split_number}"
    for name in (train_name, test_name):
        if name not in dataset.split:
            raise UserInputError(
                f"{dataset.source}: unknown split {name!r}; the file has: {', '.join(sorted(dataset.split))}"
            )
    if not 0.0 <= val_fraction < 1.0:
        raise UserInputError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if not 0.0 < train_fraction <= 1.0:
        raise UserInputError(f"train_fraction must be in (0, 1], got {train_fraction}")
    if val_groups not in ("name", "body_shape"):
        raise UserInputError(f"data.val_groups: {val_groups!r}; use name (gXX in the clip id) or body_shape "
                             "(groups of body-shape twins, helpers.data.twins)")
    train_ids = list(dataset.split[train_name])
    test_ids = list(dataset.split[test_name])
    overlap = set(train_ids) & set(test_ids)
    if overlap:
        raise UserInputError(f"{dataset.source}: {len(overlap)} clips are in both {train_name} and {test_name}")
    ungrouped_ids = [i for i in train_ids if group_of(i) is None]
    labels = {i: dataset.clip(i)["label"] for i in train_ids}
    twins = twin_group_function(dataset, ungrouped_ids) if val_groups == "body_shape" and ungrouped_ids else None

    def carve(ids: list[str], fraction: float, carve_seed: int) -> set[str]:
        """gXX groups (across classes) for named ids; twin groups class by class, or stratified, for the rest."""
        if twins is None:
            return holdout(ids, [labels[i] for i in ids], fraction, carve_seed)
        named = [i for i in ids if group_of(i) is not None]
        unnamed = [i for i in ids if group_of(i) is None]
        return (holdout(named, [labels[i] for i in named], fraction, carve_seed)
                | holdout(unnamed, [labels[i] for i in unnamed], fraction, carve_seed, twins, groups_within_class=True))

    val = carve(train_ids, val_fraction, seed) if val_fraction > 0 else set()
    grouped = len(ungrouped_ids) < len(train_ids)
    rest_rule = "by body-shape twin group, class by class" if val_groups == "body_shape" else "stratified"
    rule = ("by group gXX" + (f", {rest_rule} for ids without group" if ungrouped_ids else "")) if grouped \
        else rest_rule
    protocol = (
        f"test = {test_name}; val = {val_fraction:.0%} of {train_name} ({rule}), "
        f"seed {seed}; train = the rest of {train_name}"
    )
    rest = [i for i in train_ids if i not in val]
    if train_fraction < 1.0:
        # a second, independent draw (seed + 1): dropping clips never touches validation
        dropped = carve(rest, 1.0 - train_fraction, seed + 1)
        rest = [i for i in rest if i not in dropped]
        protocol += f", of which {train_fraction:.0%} is used (learning curve)"
    return Splits(
        train=rest,
        val=[i for i in train_ids if i in val],
        test=test_ids,
        protocol=protocol,
    )


def config_splits(dataset: SkeletonDataset, data) -> Splits:
    """`make_splits` with the settings of a `helpers.config.DataConfig` (split, val_fraction, seed,
    train_fraction, val_groups): the one place that turns a run's data settings into its clips."""
    return make_splits(dataset, data.split, data.val_fraction, data.seed, data.train_fraction, data.val_groups)


def groups_shared(splits: Splits) -> dict[str, list[str]]:
    """Groups found on two sides at once, for each pair of sides (all empty when leak-free)."""
    sides = {side: {group_of(i) for i in getattr(splits, side)} - {None} for side in ("train", "val", "test")}
    return {f"{a}/{b}": sorted(sides[a] & sides[b]) for a, b in (("train", "val"), ("train", "test"), ("val", "test"))}


def groups_straddling(splits: Splits) -> set[str]:
    """Groups present in both train and val (empty for a leak-free split)."""
    return set(groups_shared(splits)["train/val"])
