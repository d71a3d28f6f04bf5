"""Leak-free train / validation / test splits.

Test is always the file's own test split.  Validation is carved out of the
file's training split, never out of test, grouped by the UCF101 group id (`gXX`
in `v_Name_gXX_cYY`): UCF101 clips of one group come from one long video, so a
group on both sides would leak.  Ids without a group fall back to a stratified
split, or, with `data.val_groups: body_shape`, to groups of body-shape twins
(`helpers.data.twins`) for data whose ids do not name the video.  With
`data.folds` K > 0 the test clips are instead one fold of a K-fold partition of
the training split (`kfold`), so the file's test split is never read.
Everything is deterministic from the seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from helpers.data.clip_ids import group_of
from helpers.data.dataset import SkeletonDataset
from helpers.errors import UserInputError
from helpers.data.twins import clip_shapes, twin_groups

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


def kfold(ids: list[str], labels: list[int], folds: int, seed: int,
          group: Callable[[str], str | None] = group_of) -> dict[str, int]:
    """id -> fold number 0..folds-1: whole groups (`group`: id -> group or None) stay in one fold, ids
    without a group are single units, and every fold gets about its share of each class.

    Units go, largest first (ties in a seeded random order), to the fold whose class counts grow the
    least (smallest sum of squared per-class counts after adding the unit; then fewest clips, then lowest
    number): for single clips that is a stratified round robin, for groups a greedy stratified balance.
    Deterministic from `seed`.
    """
    if folds < 2:
        raise UserInputError(f"data.folds: K-fold needs at least 2 folds, got {folds}")
    classes = sorted(set(labels))
    column = {label: k for k, label in enumerate(classes)}
    units: dict[str, list[int]] = {}
    for index, clip_id in enumerate(ids):
        name = group(clip_id)
        units.setdefault(f"clip:{clip_id}" if name is None else f"group:{name}", []).append(index)
    if len(units) < folds:
        raise UserInputError(f"data.folds: {folds} folds need at least {folds} groups or clips; "
                             f"the training split has {len(units)}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(sorted(units)).tolist()
    order.sort(key=lambda name: -len(units[name]))                        # stable: seeded order among equals
    counts = np.zeros((folds, len(classes)), dtype=np.int64)              # (K, classes) clips per fold and class
    assignment: dict[str, int] = {}
    for name in order:
        unit = np.zeros(len(classes), dtype=np.int64)
        for index in units[name]:
            unit[column[labels[index]]] += 1
        growth = ((counts + unit) ** 2).sum(axis=1)                     # (K,)
        fold = min(range(folds), key=lambda f: (growth[f], counts[f].sum(), f))
        counts[fold] += unit
        for index in units[name]:
            assignment[ids[index]] = fold
    return assignment


def twin_group_function(dataset: SkeletonDataset, ids: list[str]) -> Callable[[str], str]:
    """id -> body-shape twin group ('twin<N>') of the clips `ids` (first person of each clip)."""
    groups = twin_groups(clip_shapes(dataset, ids), np.array([dataset.clip(i)["label"] for i in ids]))
    names = {clip_id: f"twin{g}" for clip_id, g in zip(ids, groups)}
    return names.__getitem__


def make_splits(dataset: SkeletonDataset, split_number: int | str = 1, val_fraction: float = 0.2,
                seed: int = 0, train_fraction: float = 1.0, val_groups: str = "name", folds: int = 0,
                fold: int = 0) -> Splits:
    """train/val/test ids for the file's `train<N>` / `test<N>` splits.

    Validation takes about `val_fraction` of train<N>: whole UCF101 groups for
    grouped ids, a stratified sample for the rest; with `val_groups='body_shape'`
    whole groups of body-shape twins for ids without a gXX group.  `train_fraction` < 1 then keeps
    about that share of the remaining training clips (the same way, by group or
    stratified), for learning curves; validation and test do not change with it.

    With `folds` K > 0, train<N> is cut into K folds (`kfold`: whole gXX groups, or twin
    groups with `val_groups='body_shape'`, stratified by class, drawn with `seed`); fold
    `fold` becomes the test clips and the other folds the training part, out of which
    validation is carved as above.  test<N> is then never read.
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
    if folds and not 0 <= fold < folds:
        raise UserInputError(f"data.fold must be in 0..{folds - 1} for data.folds {folds}, got {fold}")
    train_ids = list(dataset.split[train_name])
    test_ids = list(dataset.split[test_name])
    overlap = set(train_ids) & set(test_ids)
    if overlap:
        raise UserInputError(f"{dataset.source}: {len(overlap)} clips are in both {train_name} and {test_name}")
    ungrouped_ids = [i for i in train_ids if group_of(i) is None]
    labels = {i: dataset.clip(i)["label"] for i in train_ids}
    twins = twin_group_function(dataset, ungrouped_ids) if val_groups == "body_shape" and ungrouped_ids else None
    fold_rule = ""
    if folds:
        in_fold = kfold(train_ids, [labels[i] for i in train_ids], folds, seed,
                        lambda i: group_of(i) or (twins(i) if twins else None))
        whole = [kind for kind, present in (("gXX groups", len(ungrouped_ids) < len(train_ids)),
                                            ("body-shape twin groups", twins is not None)) if present]
        whole = " and ".join(whole)
        test_ids = [i for i in train_ids if in_fold[i] == fold]
        train_ids = [i for i in train_ids if in_fold[i] != fold]
        ungrouped_ids = [i for i in train_ids if group_of(i) is None]
        fold_rule = (f"test = fold {fold} of {folds} of {train_name} (stratified by class"
                     + (f", whole {whole}" if whole else "") + f", seed {seed}; {test_name} unread); "
                     f"the other folds form the training part")
        train_name = f"the training part of {train_name}"

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
        (fold_rule if folds else f"test = {test_name}") + f"; val = {val_fraction:.0%} of {train_name} ({rule}), "
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
    train_fraction, val_groups, folds, fold): the one place that turns a run's data settings into its clips."""
    return make_splits(dataset, data.split, data.val_fraction, data.seed, data.train_fraction, data.val_groups,
                       data.folds, data.fold)


def groups_shared(splits: Splits) -> dict[str, list[str]]:
    """Groups found on two sides at once, for each pair of sides (all empty when leak-free)."""
    sides = {side: {group_of(i) for i in getattr(splits, side)} - {None} for side in ("train", "val", "test")}
    return {f"{a}/{b}": sorted(sides[a] & sides[b]) for a, b in (("train", "val"), ("train", "test"), ("val", "test"))}


def groups_straddling(splits: Splits) -> set[str]:
    """Groups present in both train and val (empty for a leak-free split)."""
    return set(groups_shared(splits)["train/val"])
