import json
import re

import numpy as np
import pytest

from helpers.data.importers import folder
from helpers.errors import UserInputError
from helpers.data.clip_ids import group_of
from tests.conftest import make_clip_folder


def _frames(rng, frames=6, joints=15):
    return rng.uniform(0, 100, size=(frames, joints, 3)).round(3)   # (T, V, x/y/score)


@pytest.mark.parametrize("encoding", ["xy", "xys", "dict", "keypoints_dict"])
def test_json_joint_encodings(tmp_path, encoding):
    array = _frames(np.random.default_rng(0))
    encode = {
        "xy": lambda f: [[x, y] for x, y, _ in f],
        "xys": lambda f: [[x, y, s] for x, y, s in f],
        "dict": lambda f: [{"x": x, "y": y, "score": s} for x, y, s in f],
        "keypoints_dict": lambda f: {"keypoints": [[x, y, s] for x, y, s in f]},
    }[encoding]
    path = tmp_path / "clip.json"
    path.write_text(json.dumps([encode(frame.tolist()) for frame in array]))
    keypoint, score = folder.read_clip_file(path)
    assert keypoint.shape == (1, 6, 15, 2) and score.shape == (1, 6, 15)
    np.testing.assert_allclose(keypoint[0], array[..., :2])
    np.testing.assert_allclose(score[0], 1.0 if encoding == "xy" else array[..., 2])


def test_json_missing_joint_and_nan(tmp_path):
    path = tmp_path / "clip.json"
    path.write_text(json.dumps([[[1, 2, 0.9], None], [[3, 4], {"x": 5, "y": 6}]]))
    keypoint, score = folder.read_clip_file(path)
    assert score[0].tolist() == [[0.9, 0.0], [1.0, 1.0]] and keypoint[0, 0, 1].tolist() == [0, 0]
    array = np.ones((4, 17, 2))
    array[1, 3] = np.nan
    np.save(tmp_path / "nan.npy", array)
    keypoint, score = folder.read_clip_file(tmp_path / "nan.npy")
    assert score[0, 1, 3] == 0 and (keypoint[0, 1, 3] == 0).all() and score.sum() == 4 * 17 - 1


@pytest.mark.parametrize("content, message", [
    ("[[[1, 2], [3, 4]]", "not valid JSON"),
    ('{"frames": []}', "expected a non-empty JSON list of frames"),
    ("[[[1, 2]], [[1, 2], [3, 4]]]", "frame 1 has 2 joints but frame 0 has 1"),
    ('[[[1, "a"]]]', "frame 0, joint 0: expected a number"),
    ('[{"points": []}]', "frame 0: a frame dict needs a 'keypoints' list"),
])
def test_malformed_json_names_the_file(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(UserInputError, match=f"bad.json: .*{message}"):
        folder.read_clip_file(path)


@pytest.mark.parametrize("shape", [(7, 17, 2), (7, 17, 3), (2, 7, 17, 2), (2, 7, 17, 3)])
def test_numpy_npy_and_npz_3d_and_4d(tmp_path, shape):
    array = np.random.default_rng(0).uniform(0.1, 1, size=shape).astype(np.float32)
    np.save(tmp_path / "a.npy", array)
    np.savez(tmp_path / "single.npz", whatever=array)
    np.savez(tmp_path / "named.npz", keypoints=array, other=np.zeros(3))
    persons = shape[0] if len(shape) == 4 else 1
    for name in ("a.npy", "single.npz", "named.npz"):
        keypoint, score = folder.read_clip_file(tmp_path / name)
        assert keypoint.shape == (persons, 7, 17, 2) and score.shape == (persons, 7, 17)
        np.testing.assert_allclose(keypoint.reshape(array[..., :2].shape), array[..., :2], rtol=1e-6)
        if shape[-1] == 3:
            np.testing.assert_allclose(score.reshape(array.shape[:-1]), array[..., 2], rtol=1e-6)
        else:
            assert (score == 1).all()


def test_npz_with_keypoint_score_and_bad_numpy_files(tmp_path):
    np.savez(tmp_path / "scored.npz", keypoint=np.ones((1, 4, 15, 2)), keypoint_score=np.full((1, 4, 15), 0.5))
    assert (folder.read_clip_file(tmp_path / "scored.npz")[1] == 0.5).all()
    np.savez(tmp_path / "two.npz", a=np.ones((4, 15, 2)), b=np.ones((4, 15, 2)))
    with pytest.raises(UserInputError, match=r"two.npz: holds arrays \['a', 'b'\]"):
        folder.read_clip_file(tmp_path / "two.npz")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(UserInputError, match="objects.npy: not a readable NumPy file"):
        folder.read_clip_file(tmp_path / "objects.npy")
    np.save(tmp_path / "flat.npy", np.ones((4, 15)))
    with pytest.raises(UserInputError, match=r"flat.npy: expected keypoints shaped .* got \(4, 15\)"):
        folder.read_clip_file(tmp_path / "flat.npy")


def test_empty_and_missing_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserInputError, match="empty: no clip files found"):
        folder.convert_folder(tmp_path / "empty")
    (tmp_path / "empty" / "wave").mkdir()
    (tmp_path / "empty" / "wave" / "notes.txt").write_text("x")
    with pytest.raises(UserInputError, match="wave: class folder has no clip files"):
        folder.convert_folder(tmp_path / "empty")
    with pytest.raises(UserInputError, match="missing: folder not found"):
        folder.convert_folder(tmp_path / "missing")


def test_generated_split_is_seeded_and_stratified(tmp_path):
    root = make_clip_folder(tmp_path / "clips", clips=10)
    first = folder.convert_folder(root, seed=3)["split"]
    assert first == folder.convert_folder(root, seed=3)["split"]
    assert first != folder.convert_folder(root, seed=4)["split"]
    assert not set(first["train1"]) & set(first["test1"])
    assert len(first["train1"]) + len(first["test1"]) == 30
    for class_name in ("jump", "sit", "wave"):
        assert sum(i.startswith(class_name + "/") for i in first["test1"]) == 3      # 30% of 10


def test_generated_split_keeps_groups_whole(tmp_path):
    root = make_clip_folder(tmp_path / "clips", clips=10, grouped=True)    # groups g01..g05, 2 clips each
    split = folder.convert_folder(root, test_fraction=0.3, seed=0)["split"]
    train_groups = {group_of(i) for i in split["train1"]}
    test_groups = {group_of(i) for i in split["test1"]}
    assert test_groups and not train_groups & test_groups
    assert 0.2 <= len(split["test1"]) / 30 <= 0.45


def test_split_file_json_and_text(tmp_path):
    root = make_clip_folder(tmp_path / "clips", classes=("jump", "sit"), clips=2)
    json_file = tmp_path / "splits.json"
    json_file.write_text(json.dumps({"train1": ["jump/clip00", "sit/clip00.npy"], "test1": ["jump/clip01"]}))
    split = folder.convert_folder(root, split_file=json_file)["split"]
    assert split == {"train1": ["jump/clip00", "sit/clip00"], "test1": ["jump/clip01"]}
    text_file = tmp_path / "splits.txt"
    text_file.write_text("# split clip\ntrain1 jump/clip00\n\ntest1 sit/clip01\n")
    assert folder.convert_folder(root, split_file=text_file)["split"] == {"train1": ["jump/clip00"],
                                                                                 "test1": ["sit/clip01"]}
    text_file.write_text("train1 clip00\n")
    with pytest.raises(UserInputError, match="splits.txt: split 'train1': 'clip00' matches several clips"):
        folder.convert_folder(root, split_file=text_file)
    text_file.write_text("train1 jump/nope\n")
    with pytest.raises(UserInputError, match="splits.txt: split 'train1': unknown clip 'jump/nope'"):
        folder.convert_folder(root, split_file=text_file)
    json_file.write_text(json.dumps({"train1": ["jump/clip00"], "test1": ["jump/clip00"]}))
    with pytest.raises(UserInputError, match="splits.json: 1 clips are in both train1 and test1"):
        folder.convert_folder(root, split_file=json_file)


def test_hostile_clip_files_are_refused_in_one_line(tmp_path):
    """Deeply nested JSON once raised RecursionError; lying .npy headers allocated what they declared."""
    import io
    import zipfile

    cases = {}
    cases["deep.json"] = "[" * 100_000 + "]" * 100_000, "not valid JSON (nested too deeply)"
    cases["long.json"] = "[[[" + "9" * 5000 + ", 1]]]", "not valid JSON (Exceeds the limit"
    cases["huge.json"] = "[[[1" + "0" * 400 + ", 1]]]", "is too large"
    cases["latin1.json"] = b"[[[1, 2, \xe9]]]", "not UTF-8 text"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**40, 17, 3)})
    cases["lying.npy"] = header.getvalue() + b"\0" * 64, "its header declares an array (1099511627776, 17, 3)"
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("keypoint.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array(member, np.zeros((60_000, 17, 3)))  # 24 MB of zeros, 24 KB compressed
    cases["bomb.npz"] = bomb.getvalue(), "unpacks to 24,480,128 bytes from"
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        with pytest.raises(UserInputError, match=re.escape(f"{path}")) as error:
            folder.read_clip_file(path)
        assert message in str(error.value) and "\n" not in str(error.value), (name, str(error.value))


def test_a_deeply_nested_split_file_is_refused(tmp_path):
    root = make_clip_folder(tmp_path / "clips", clips=4)
    split = tmp_path / "split.json"
    split.write_text('{"train1": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(UserInputError, match=r"split.json: not valid JSON \(nested too deeply\)"):
        folder.convert_folder(root, split_file=split)
