import copy

import numpy as np
import pytest

from helpers.data.class_names import HMDB51_CLASS_NAMES, UCF101_CLASS_NAMES
from helpers.data.dataset import load_dataset, save_dataset, select_classes, validate_dataset
from helpers.errors import UserInputError


def test_real_sample_loads_with_ucf101_names(ucf_sample_path):
    dataset = load_dataset(ucf_sample_path)
    assert len(dataset.annotations) == 6
    assert dataset.layout.name == "coco17"
    assert dataset.class_names == list(UCF101_CLASS_NAMES)
    assert dataset.class_names[0] == "ApplyEyeMakeup"
    two_person = dataset.clip("v_ApplyEyeMakeup_g01_c01")
    assert two_person["keypoint"].shape == (2, 163, 17, 2)
    assert two_person["keypoint_score"].shape == (2, 163, 17)
    assert [c["frame_dir"] for c in dataset.split_clips("test1")] == dataset.split["test1"]


def test_class_name_lists_have_official_sizes():
    assert len(UCF101_CLASS_NAMES) == 101 and len(set(UCF101_CLASS_NAMES)) == 101
    assert UCF101_CLASS_NAMES[100] == "YoYo"
    assert len(HMDB51_CLASS_NAMES) == 51 and HMDB51_CLASS_NAMES[0] == "brush_hair"


def _broken(data, mutate):
    data = copy.deepcopy(data)
    mutate(data)
    return data


def _set(key, value, index=0):
    return lambda data: data["annotations"][index].__setitem__(key, value)


def _delete(key, index=0):
    return lambda data: data["annotations"][index].pop(key)


def _with_nan(key):
    def mutate(data):
        array = data["annotations"][0][key].copy()
        array.flat[5] = np.nan
        data["annotations"][0][key] = array
    return mutate


BROKEN = {
    "top level not a dict": (lambda d: None, "top level must be a dict"),
    "missing annotations": (lambda d: d.pop("annotations"), "missing top-level key 'annotations'"),
    "missing split": (lambda d: d.pop("split"), "missing top-level key 'split'"),
    "missing keypoint": (_delete("keypoint"), "missing key 'keypoint'"),
    "missing label": (_delete("label"), "missing key 'label'"),
    "keypoint 3-D": (_set("keypoint", np.zeros((10, 17, 2))), "field 'keypoint' must be an array \\[M, T, V, 2\\]"),
    "keypoint last dim 3": (_set("keypoint", np.zeros((1, 10, 17, 3))), "field 'keypoint' must be an array"),
    "score wrong shape": (_set("keypoint_score", np.zeros((1, 9, 17))), "field 'keypoint_score' must be an array"),
    "zero frames": (_set("keypoint", np.zeros((1, 0, 17, 2))), "no frame \\(T == 0\\)"),
    "zero persons": (_set("keypoint", np.zeros((0, 10, 17, 2))), "no person \\(M == 0\\)"),
    "nan keypoint": (_with_nan("keypoint"), "field 'keypoint' contains NaN"),
    "nan score": (_with_nan("keypoint_score"), "field 'keypoint_score' contains NaN"),
    "label out of range": (_set("label", 3), "field 'label' = 3 is out of range 0..2"),
    "negative label": (_set("label", -1), "field 'label' = -1 is out of range"),
    "label not int": (_set("label", "Class0"), "field 'label' must be an integer"),
    "unknown id in split": (lambda d: d["split"]["test1"].append("v_Nope_g01_c01"), "split 'test1'.*v_Nope_g01_c01"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_malformed_input_names_file_and_field(case, tiny_dataset_dict, tmp_path):
    mutate, message = BROKEN[case]
    data = None if case == "top level not a dict" else _broken(tiny_dataset_dict, mutate)
    path = save_dataset(data, tmp_path / "broken.pkl")
    with pytest.raises(UserInputError, match=message) as error:
        load_dataset(path)
    assert "broken.pkl" in str(error.value)
    if case not in ("top level not a dict", "missing annotations", "missing split", "unknown id in split"):
        assert "v_Class0_g01_c01" in str(error.value)  # names the clip


def test_unknown_split_name_lists_known_ones(tiny_dataset_path):
    dataset = load_dataset(tiny_dataset_path)
    with pytest.raises(UserInputError, match="unknown split 'train7'.*test1, train1"):
        dataset.split_clips("train7")


def test_missing_scores_default_to_one(tiny_dataset_dict):
    del tiny_dataset_dict["annotations"][0]["keypoint_score"]
    dataset = validate_dataset(tiny_dataset_dict, "mem")
    assert (dataset.annotations[0]["keypoint_score"] == 1).all()


def test_select_classes_by_name_and_id_remaps_labels(tiny_dataset_path):
    dataset = load_dataset(tiny_dataset_path)
    subset = select_classes(dataset, ["Class2", 0])
    assert subset.class_names == ["Class2", "Class0"]
    assert {c["label"] for c in subset.annotations} == {0, 1}
    for clip in subset.annotations:
        assert clip["frame_dir"].startswith("v_Class2" if clip["label"] == 0 else "v_Class0")
    assert all(m.startswith(("v_Class2", "v_Class0")) for m in subset.split["train1"])
    with pytest.raises(UserInputError, match="unknown class name 'Nope'"):
        select_classes(dataset, ["Nope"])
    with pytest.raises(UserInputError, match="class id 7 out of range"):
        select_classes(dataset, [7])


def test_save_is_atomic_and_round_trips(tiny_dataset_dict, tmp_path):
    path = save_dataset(tiny_dataset_dict, tmp_path / "out" / "d.pkl")
    assert [p.name for p in path.parent.iterdir()] == ["d.pkl"]
    dataset = load_dataset(path)
    np.testing.assert_array_equal(dataset.annotations[3]["keypoint"], tiny_dataset_dict["annotations"][3]["keypoint"])
