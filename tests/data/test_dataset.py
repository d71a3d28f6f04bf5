import copy

import numpy as np
import pytest

from helpers.data.class_names import HMDB51_CLASS_NAMES, UCF101_CLASS_NAMES
from helpers.data.dataset import all_finite, load_dataset, save_dataset, select_classes, validate_dataset
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
    before = path.read_bytes()
    with pytest.raises(Exception):
        save_dataset({**tiny_dataset_dict, "bad": lambda: None}, path)  # unpicklable
    assert path.read_bytes() == before and [p.name for p in path.parent.iterdir()] == ["d.pkl"]


def _saved(data, tmp_path, name="d.pkl"):
    return save_dataset(data, tmp_path / name)


def test_a_clip_listed_many_times_in_a_split_is_refused(tiny_dataset_dict, tmp_path):
    """Validation once scored 51 copies of one clip and chose best.pt on them."""
    tiny_dataset_dict["split"]["train1"] += [tiny_dataset_dict["split"]["train1"][0]] * 50
    with pytest.raises(UserInputError, match=r"d.pkl: split 'train1' lists clip 'v_Class0_g04_c01' 51 times"):
        load_dataset(_saved(tiny_dataset_dict, tmp_path))


def test_millions_of_repeated_split_ids_are_refused_in_seconds(tiny_dataset_dict, tmp_path):
    """Ten million references to one id once trained for 150 s before it was killed (two million here)."""
    import time

    tiny_dataset_dict["split"]["train1"] = [tiny_dataset_dict["split"]["train1"][0]] * 2_000_000
    path = _saved(tiny_dataset_dict, tmp_path)
    start = time.perf_counter()
    with pytest.raises(UserInputError, match="lists clip 'v_Class0_g04_c01' 2000000 times"):
        load_dataset(path)
    assert time.perf_counter() - start < 5


def test_a_clip_on_both_sides_of_a_split_pair_is_refused(tiny_dataset_dict, tmp_path):
    tiny_dataset_dict["split"]["train1"].append(tiny_dataset_dict["split"]["test1"][0])
    with pytest.raises(UserInputError, match=r"splits 'train1' and 'test1' share 1 clip, e.g. 'v_Class0_g01_c01'"):
        load_dataset(_saved(tiny_dataset_dict, tmp_path))


def test_labels_beyond_the_class_names_are_refused(tiny_dataset_dict, tmp_path):
    tiny_dataset_dict["annotations"][5]["label"] = 100
    with pytest.raises(UserInputError, match=r"field 'label' = 100 is out of range 0..2 \(the file names 3 classes\)"):
        load_dataset(_saved(tiny_dataset_dict, tmp_path))
    tiny_dataset_dict["class_names"] = ["A", "B", "A"]
    with pytest.raises(UserInputError, match="field 'class_names' names 'A' twice"):
        load_dataset(_saved(tiny_dataset_dict, tmp_path))


def test_made_up_class_names_never_repeat(tiny_dataset_dict, tmp_path):
    """Label 100 in a file without class names once made 101 classes, two of them named after one id."""
    del tiny_dataset_dict["class_names"]
    tiny_dataset_dict["annotations"][0]["label"] = 100  # an id of Class0 under another label
    dataset = load_dataset(_saved(tiny_dataset_dict, tmp_path))
    assert len(dataset.class_names) == 101 and len(set(dataset.class_names)) == 101
    assert dataset.class_names[:3] == ["class_0", "Class1", "Class2"] and dataset.class_names[100] == "class_100"
    tiny_dataset_dict["annotations"][0]["label"] = 10**9  # no list of a billion made-up names
    with pytest.raises(UserInputError, match="may use labels 0..9999"):
        load_dataset(_saved(tiny_dataset_dict, tmp_path))


@pytest.mark.parametrize("score", [np.full((1, 20, 17), "0.5"), np.full((1, 20, 17), None, dtype=object),
                                   np.ones((1, 20, 17), dtype=bool)])
def test_non_numeric_scores_are_refused_in_one_line(score, tiny_dataset_dict, tmp_path):
    clip = tiny_dataset_dict["annotations"][0]
    clip["keypoint"] = clip["keypoint"][:, :20]
    clip["keypoint_score"] = score
    with pytest.raises(UserInputError, match=rf"clip 'v_Class0_g01_c01': field 'keypoint_score' must be numeric, "
                                             rf"got dtype {score.dtype}"):
        load_dataset(_saved(tiny_dataset_dict, tmp_path))


def test_deeply_nested_values_are_quoted_short(tiny_dataset_dict):
    """A list nested 10^6 deep as a label once raised RecursionError while the message was made (10^5 here:
    far beyond the recursion limit too, and quicker to build)."""
    from tests.hostile import nested

    tiny_dataset_dict["annotations"][0]["label"] = nested(10**5)
    with pytest.raises(UserInputError, match=r"field 'label' must be an integer, got \[\[\[\[...\]\]\]\]") as error:
        validate_dataset(tiny_dataset_dict, "mem")
    assert len(str(error.value)) < 200
    tiny_dataset_dict["annotations"][0]["label"] = 0
    tiny_dataset_dict["split"]["train1"].append(nested(10**5))
    with pytest.raises(UserInputError, match=r"split 'train1': entries must be clip id strings, got \[\[\[\["):
        validate_dataset(tiny_dataset_dict, "mem")


def test_ids_with_control_characters_are_quoted_escaped(tiny_dataset_dict):
    tiny_dataset_dict["annotations"][0]["label"] = "x"
    tiny_dataset_dict["annotations"][0]["frame_dir"] = "evil\n\x1b[31mred"
    with pytest.raises(UserInputError) as error:
        validate_dataset(tiny_dataset_dict, "mem")
    assert "clip 'evil\\n\\x1b[31mred'" in str(error.value) and "\x1b" not in str(error.value)


def test_all_finite_matches_isfinite_for_every_float_type():
    rng = np.random.default_rng(0)
    for dtype in (np.float16, np.float32, np.float64, np.int16):
        array = rng.normal(size=(3, 50, 17, 2)).astype(dtype)
        assert all_finite(array) and all_finite(array[:, ::3])  # strided views too
        if np.issubdtype(dtype, np.floating):
            for bad in (np.nan, np.inf, -np.inf):
                broken = array.copy()
                broken[2, 7, 3, 1] = bad
                assert not all_finite(broken) and not all_finite(broken.astype(broken.dtype.newbyteorder()))
