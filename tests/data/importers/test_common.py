"""Layouts of imported keypoints (helpers.data.importers.common.resolve_layout), reached through a clip folder."""
import numpy as np
import pytest

from helpers.data.importers import folder
from helpers.errors import UserInputError
from tests.conftest import make_clip_folder, run_convert


@pytest.mark.parametrize("joints, layout", [(15, "jhmdb15"), (17, "coco17"), (18, "openpose18")])
def test_layout_inferred_from_joint_count(tmp_path, joints, layout):
    make_clip_folder(tmp_path / "clips", clips=3, joints=joints)
    data = folder.convert_folder(tmp_path / "clips")
    assert data["layout"] == layout
    assert data["class_names"] == ["jump", "sit", "wave"]
    assert data["annotations"][0]["frame_dir"] == "jump/clip00"


def test_unknown_joint_count_names_file_and_how_to_declare(tmp_path, capsys):
    make_clip_folder(tmp_path / "clips", clips=2, joints=13)
    assert run_convert("folder", tmp_path / "clips", "--out", tmp_path / "o.pkl") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "clip00.npy" in err and "13 joints" in err
    assert "--layout" in err and "declare a new Layout in helpers/data/layouts.py" in err
    with pytest.raises(UserInputError, match="has 13 joints but layout coco17 has 17"):
        folder.convert_folder(tmp_path / "clips", layout_name="coco17")
    with pytest.raises(UserInputError, match="unknown skeleton layout 'nope'"):
        folder.convert_folder(tmp_path / "clips", layout_name="nope")


def test_layout_option_and_inconsistent_joint_counts(tmp_path):
    root = make_clip_folder(tmp_path / "clips", clips=2, joints=15)
    assert folder.convert_folder(root, layout_name="JHMDB-15")["layout"] == "jhmdb15"
    np.save(root / "sit" / "odd.npy", np.ones((5, 17, 2)))
    with pytest.raises(UserInputError, match=r"inconsistent joint counts: .*clip00.npy has 15 joints, .*odd.npy has 17"):
        folder.convert_folder(root)
