"""When an input does not fit a checkpoint: the warnings predict prints, and the input's true label."""
from types import SimpleNamespace

from helpers.config import Config
from helpers.evaluation import input_checks
from helpers.paths import synthetic_dataset_path


def _checkpoint(classes, source):
    return SimpleNamespace(class_names=list(classes), state={"data_source": source}, config=Config(), path="ck.pt")


SYNTHETIC = str(synthetic_dataset_path().with_name("synthetic_default-0123456789.pkl"))


def test_a_synthetic_checkpoint_on_other_data_is_flagged_once_per_reason():
    synthetic = _checkpoint(["Bowing", "Clapping"], SYNTHETIC)
    assert input_checks.trained_on(synthetic) == "the built-in SYNTHETIC dataset"
    assert input_checks.input_warnings(synthetic, SYNTHETIC, ["Bowing", "Clapping"], synthetic=True) == []
    assert input_checks.input_warnings(synthetic, "copy.pkl", ["Bowing", "Clapping"]) == []     # same classes
    video = input_checks.input_warnings(synthetic, "clip.mp4")
    assert len(video) == 1 and "trained on the built-in SYNTHETIC dataset (classes Bowing, Clapping)" in video[0]
    real = input_checks.input_warnings(synthetic, "ucf.pkl", ["ApplyEyeMakeup", "Archery"])
    assert len(real) == 2 and "the input's classes (ApplyEyeMakeup, Archery) are not those" in real[1]


def test_a_real_checkpoint_accepts_a_superset_of_its_classes():
    subset = _checkpoint(["Archery", "Biking"], "data/ucf101_2d.pkl")
    assert input_checks.input_warnings(subset, "ucf101_2d.pkl", ["ApplyEyeMakeup", "Archery", "Biking"]) == []
    assert len(input_checks.input_warnings(subset, "other.pkl", ["Archery", "Bowling"])) == 1


def test_true_labels_from_class_names_ids_and_folders():
    clip = {"frame_dir": "v_Biking_g01_c01", "label": 1}
    assert input_checks.true_label(clip, ["Archery", "Biking"]) == "Biking"
    assert input_checks.true_label(clip) == "Biking"                                 # from the UCF-style id
    assert input_checks.true_label({"frame_dir": "clip7", "label": 0}) is None
    checkpoint = _checkpoint(["correct", "wrong"], "data/mine.pkl")
    assert input_checks.video_label("videos/wrong/w1.mp4", checkpoint) == "wrong"
    assert input_checks.video_label("Downloads/w1.mp4", checkpoint) is None
    assert input_checks.label_verdict("wrong", "wrong", checkpoint) == "true label: wrong (predicted correctly)"
    assert input_checks.label_verdict("wrong", "correct", checkpoint) == "true label: wrong (predicted correct)"
    assert input_checks.label_verdict("Biking", "correct", checkpoint).endswith("(not one of the checkpoint's classes)")
    assert input_checks.label_verdict(None, "correct", checkpoint) is None
