import pytest

from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.data.clip_ids import group_of
from helpers.data.splits import groups_straddling, make_splits
from tests.conftest import make_tiny_dataset


def test_validation_is_carved_from_train_by_group_and_deterministic():
    dataset = validate_dataset(make_tiny_dataset(groups=12), "mem")
    splits = make_splits(dataset, 1, val_fraction=0.25, seed=3)
    train1, test1 = set(dataset.split["train1"]), set(dataset.split["test1"])
    assert set(splits.test) == test1
    assert set(splits.train) | set(splits.val) == train1
    assert not set(splits.val) & test1 and not set(splits.train) & set(splits.val)
    assert groups_straddling(splits) == set()
    assert 0.1 < len(splits.val) / len(train1) < 0.4
    assert make_splits(dataset, 1, 0.25, seed=3).val == splits.val
    assert make_splits(dataset, 1, 0.25, seed=4).val != splits.val


def without_group_names(data: dict) -> dict:
    """`data` with clip ids that name no gXX group ('clip_<i>')."""
    rename = {c["frame_dir"]: f"clip_{i}" for i, c in enumerate(data["annotations"])}
    for clip in data["annotations"]:
        clip["frame_dir"] = rename[clip["frame_dir"]]
    data["split"] = {k: [rename[m] for m in v] for k, v in data["split"].items()}
    return data


def test_ids_without_groups_fall_back_to_stratified():
    dataset = validate_dataset(without_group_names(make_tiny_dataset(num_classes=3, groups=6)), "mem")
    splits = make_splits(dataset, 1, 0.3, seed=0)
    val_labels = [dataset.clip(i)["label"] for i in splits.val]
    assert sorted(set(val_labels)) == [0, 1, 2]          # every class represented
    assert "stratified" in splits.protocol


def test_shared_groups_are_reported_per_pair_of_sides():
    from helpers.data.splits import Splits, groups_shared

    leaky = Splits(train=["v_A_g08_c01", "v_A_g09_c01"], val=["v_A_g09_c02"], test=["v_A_g01_c01", "v_B_g08_c03"],
                   protocol="hand-made")
    assert groups_shared(leaky) == {"train/val": ["g09"], "train/test": ["g08"], "val/test": []}
    assert groups_straddling(leaky) == {"g09"}


def test_train_fraction_subsamples_training_only_and_keeps_every_class():
    data = make_tiny_dataset(num_classes=3, groups=12)
    rename = {c["frame_dir"]: f"clip_{i}" for i, c in enumerate(data["annotations"])}  # ungrouped: stratified
    for clip in data["annotations"]:
        clip["frame_dir"] = rename[clip["frame_dir"]]
    data["split"] = {k: [rename[m] for m in v] for k, v in data["split"].items()}
    dataset = validate_dataset(data, "mem")
    full = make_splits(dataset, 1, 0.2, seed=0)
    half = make_splits(dataset, 1, 0.2, seed=0, train_fraction=0.5)
    assert half.val == full.val and half.test == full.test
    assert set(half.train) < set(full.train)
    assert 0.35 < len(half.train) / len(full.train) < 0.65
    assert sorted({dataset.clip(i)["label"] for i in half.train}) == [0, 1, 2]
    assert "50% is used" in half.protocol
    assert make_splits(dataset, 1, 0.2, seed=0, train_fraction=0.5).train == half.train
    with pytest.raises(UserInputError, match="train_fraction"):
        make_splits(dataset, 1, 0.2, seed=0, train_fraction=0.0)


def test_body_shape_carveout_keeps_twins_together_and_every_class():
    data = without_group_names(make_tiny_dataset(num_classes=3, groups=8))
    by_id = {clip["frame_dir"]: clip for clip in data["annotations"]}
    originals = list(data["split"]["train1"])
    for index, clip_id in enumerate(originals[:12]):                # twins: the same clip, moved
        twin = dict(by_id[clip_id], frame_dir=f"twin_{index}", keypoint=by_id[clip_id]["keypoint"] + 5)
        data["annotations"].append(twin)
        data["split"]["train1"].append(twin["frame_dir"])
    dataset = validate_dataset(data, "mem")
    for seed in range(4):
        splits = make_splits(dataset, 1, 0.3, seed=seed, val_groups="body_shape")
        val = set(splits.val)
        for index, clip_id in enumerate(originals[:12]):
            assert (clip_id in val) == (f"twin_{index}" in val)      # a twin pair is never split
        assert sorted({dataset.clip(i)["label"] for i in val}) == [0, 1, 2]
        assert "body-shape twin group" in splits.protocol
        assert make_splits(dataset, 1, 0.3, seed=seed, val_groups="body_shape").val == splits.val
    with pytest.raises(UserInputError, match="data.val_groups: 'video'"):
        make_splits(dataset, 1, 0.3, val_groups="video")


def test_body_shape_carveout_leaves_named_groups_whole():
    named = make_tiny_dataset(num_classes=3, groups=8)
    unnamed = without_group_names(make_tiny_dataset(num_classes=3, groups=8, seed=1))
    for side in ("train1", "test1"):
        named["split"][side] += unnamed["split"][side]
    named["annotations"] += unnamed["annotations"]
    dataset = validate_dataset(named, "mem")
    for seed in range(3):
        splits = make_splits(dataset, 1, 0.3, seed=seed, val_groups="body_shape")
        assert groups_straddling(splits) == set()                    # gXX groups stay whole, across classes
        assert any(i.startswith("clip_") for i in splits.val) and any(group_of(i) for i in splits.val)
        assert "by group gXX, by body-shape twin group, class by class for ids without group" in splits.protocol


def test_kfold_is_stratified_keeps_groups_whole_and_is_seeded():
    from collections import Counter

    from helpers.data.splits import kfold

    ids = [f"clip_{i}" for i in range(30)]
    labels = [i % 3 for i in range(30)]                              # 10 clips per class
    folds = kfold(ids, labels, 5, seed=0)
    assert sorted(Counter(folds.values()).values()) == [6] * 5
    for fold in range(5):
        assert Counter(labels[i] for i, name in enumerate(ids) if folds[name] == fold) == {0: 2, 1: 2, 2: 2}
    assert kfold(ids, labels, 5, seed=0) == folds and kfold(ids, labels, 5, seed=1) != folds
    pairs = {name: f"pair{i // 2}" for i, name in enumerate(ids)}     # groups of two clips of one class
    grouped = kfold(ids, [i // 2 % 3 for i in range(30)], 3, seed=0, group=pairs.get)
    assert all(grouped[ids[i]] == grouped[ids[i + 1]] for i in range(0, 30, 2))
    with pytest.raises(UserInputError, match="at least 2 folds"):
        kfold(ids, labels, 1, seed=0)
    with pytest.raises(UserInputError, match="the training split has 3"):
        kfold(ids[:3], labels[:3], 5, seed=0)


def test_folds_partition_train_never_read_test_and_carve_validation_from_the_training_part():
    dataset = validate_dataset(make_tiny_dataset(num_classes=3, groups=13), "mem")   # train1: groups g04-g13
    train1 = set(dataset.split["train1"])
    held_out = []
    for fold in range(5):
        splits = make_splits(dataset, 1, 0.2, seed=0, folds=5, fold=fold)
        assert set(splits.test) | set(splits.train) | set(splits.val) == train1
        assert not set(splits.test) & (set(splits.train) | set(splits.val)) and not set(splits.train) & set(splits.val)
        assert groups_straddling(splits) == set() and len({group_of(i) for i in splits.test}) == 2
        assert splits.val and "fold %d of 5 of train1" % fold in splits.protocol and "test1 unread" in splits.protocol
        held_out += splits.test
    assert sorted(held_out) == sorted(train1)                        # every clip is held out exactly once
    assert make_splits(dataset, 1, 0.2, seed=0, folds=5, fold=2).test == \
        make_splits(dataset, 1, 0.2, seed=0, folds=5, fold=2).test
    assert make_splits(dataset, 1, 0.0, seed=0, folds=5, fold=0).val == []
    with pytest.raises(UserInputError, match="data.fold must be in 0..4"):
        make_splits(dataset, 1, 0.2, folds=5, fold=5)
