import json
import os
import pickle

import numpy as np
import pytest

from helpers.data import cache
from helpers.data.cache import cache_folder, open_cached_dataset
from helpers.config import DataConfig
from helpers.data.source import open_dataset
from helpers.data.dataset import load_dataset, save_dataset, select_classes, to_dict
from helpers.errors import UserInputError


@pytest.fixture(autouse=True)
def cache_root(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("SKELETON_ACTIONS_CACHE", str(root))
    return root


@pytest.fixture
def builds(monkeypatch):
    """Counts cache builds."""
    calls = []
    real = cache.build_cache

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "build_cache", counting)
    return calls


def assert_same_clips(cached, reference):
    assert len(cached) == len(reference)
    for got, want in zip(cached, reference):
        assert set(got) == set(want)
        for key, value in want.items():
            if isinstance(value, np.ndarray):
                assert got[key].dtype == value.dtype and np.array_equal(got[key], value), key
            else:
                assert got[key] == value and type(got[key]) is type(value), key


def mapped_array(array: np.ndarray) -> np.memmap:
    """The whole memory-mapped cache array that `array` is a view of."""
    while not isinstance(array, np.memmap):
        assert isinstance(array, np.ndarray), "not a view of a memory map"
        array = array.base
    return array


def test_warm_load_gives_the_pickles_clips_splits_and_names(tiny_dataset_path, builds, cache_root):
    reference = load_dataset(tiny_dataset_path)
    first = open_cached_dataset(tiny_dataset_path, verbose=False)
    warm = open_cached_dataset(tiny_dataset_path, verbose=False)
    assert len(builds) == 1
    for dataset in (first, warm):
        assert_same_clips(dataset.annotations, reference.annotations)
        assert dataset.split == reference.split
        assert dataset.class_names == reference.class_names
        assert dataset.layout == reference.layout
        assert dataset.source == str(tiny_dataset_path)
    assert cache_folder(tiny_dataset_path).parent == cache_root


def test_clips_are_read_only_memory_mapped_views_that_still_pickle_safely(tiny_dataset_path, tmp_path):
    dataset = open_cached_dataset(tiny_dataset_path, verbose=False)
    clip = dataset.annotations[0]
    assert clip["keypoint"].shape[1:] == (clip["total_frames"], 17, 2)
    assert clip["keypoint_score"].shape == clip["keypoint"].shape[:3]
    for key in ("keypoint", "keypoint_score"):
        assert not clip[key].flags.writeable
        mapped_array(clip[key])
    # a cached dataset saved again is a plain pickle that the restricted unpickler accepts
    again = load_dataset(save_dataset(to_dict(dataset), tmp_path / "again.pkl"))
    assert_same_clips(again.annotations, dataset.annotations)


def test_annotations_are_made_on_first_access_and_behave_as_a_list(tiny_dataset_path, tmp_path):
    reference = load_dataset(tiny_dataset_path)
    dataset = open_cached_dataset(tiny_dataset_path, verbose=False)
    clips = dataset.annotations
    assert isinstance(clips, cache.CachedClips) and "0 made" in repr(clips)
    assert clips.frame_dirs == [clip["frame_dir"] for clip in reference.annotations]
    assert dataset.clip(clips.frame_dirs[5]) is clips[5] is clips[5 - len(clips)]  # made once, then kept
    assert "1 made" in repr(clips)
    clips[3]["note"] = "kept"  # the same dict comes back, as from a list
    assert clips[3]["note"] == "kept" and next(iter(clips[3:4]))["note"] == "kept"
    del clips[3]["note"]
    assert_same_clips(clips[2:9:3], reference.annotations[2:9:3])
    with pytest.raises(IndexError):
        clips[len(clips)]
    with pytest.raises(TypeError):
        clips[0] = {}  # read-only
    # what the rest of the project does with annotations works as on a list
    assert type(to_dict(dataset)["annotations"]) is list
    assert_same_clips(pickle.loads(pickle.dumps(clips)), reference.annotations)
    subset = select_classes(dataset, [1])
    assert_same_clips(subset.annotations, select_classes(reference, [1]).annotations)


def test_uncommon_fields_come_back_as_they_were(tiny_dataset_dict, tmp_path):
    clips = tiny_dataset_dict["annotations"]
    clips[0]["modality"] = "Pose"                       # a field only some clips have
    clips[1]["box"] = np.arange(4, dtype=np.int32)      # a small array
    clips[2]["meta"] = {"fps": 25.0, "size": (1, 2)}    # nested containers
    clips[3]["img_shape"] = (240, 320)                  # a tuple column that is not constant
    clips[4]["keypoint"] = clips[4]["keypoint"].astype(np.float32)  # mixed dtypes: stored as float32
    path = save_dataset(tiny_dataset_dict, tmp_path / "odd.pkl")
    reference = load_dataset(path)
    cached = open_cached_dataset(path, verbose=False)
    assert cached.annotations[4]["keypoint"].dtype == np.float32
    for clip in (*reference.annotations, *cached.annotations):
        clip["keypoint"] = clip["keypoint"].astype(np.float32)
    assert_same_clips(cached.annotations, reference.annotations)
    assert "modality" not in cached.annotations[1]


def test_changed_source_is_rebuilt(tiny_dataset_path, tiny_dataset_dict, builds):
    open_cached_dataset(tiny_dataset_path, verbose=False)
    tiny_dataset_dict["annotations"][0]["keypoint"] = tiny_dataset_dict["annotations"][0]["keypoint"] + 1
    save_dataset(tiny_dataset_dict, tiny_dataset_path)
    stat = tiny_dataset_path.stat()
    os.utime(tiny_dataset_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    dataset = open_cached_dataset(tiny_dataset_path, verbose=False)
    assert len(builds) == 2
    assert np.array_equal(dataset.annotations[0]["keypoint"], tiny_dataset_dict["annotations"][0]["keypoint"])


def _flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] = ord("7") if data[middle] != ord("7") else ord("8")
    path.write_bytes(bytes(data))


def _edit_manifest(**changes):
    def edit(folder):
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest.update(changes)
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return edit


BREAKAGES = {
    "manifest deleted": (lambda f: (f / "manifest.json").unlink(), "manifest.json is missing"),
    "manifest not JSON": (lambda f: (f / "manifest.json").write_text("{not json"), "manifest.json is unreadable"),
    "wrong format version": (_edit_manifest(format_version=0), "format version 0"),
    "keypoints truncated": (lambda f: os.truncate(f / "keypoint.npy", 1000), "keypoint.npy has 1000 bytes"),
    "scores missing": (lambda f: (f / "keypoint_score.npy").unlink(), "keypoint_score.npy is missing"),
    "index edited, same size": (lambda f: _flip_middle_byte(f / "index.json"), "index.json does not match"),
    "meta not JSON": (lambda f: (f / "meta.json").write_text("garbage"), "meta.json has 7 bytes"),
    "clip table edited, same size": (lambda f: _flip_middle_byte(f / "clips.npy"), "clips.npy does not match"),
    "split rows missing": (lambda f: (f / "split.npy").unlink(), "split.npy is missing"),
}


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_broken_cache_is_reported_and_rebuilt_never_used(name, tiny_dataset_path, builds, capsys):
    break_it, message = BREAKAGES[name]
    reference = load_dataset(tiny_dataset_path)
    open_cached_dataset(tiny_dataset_path, verbose=False)
    break_it(cache_folder(tiny_dataset_path))
    dataset = open_cached_dataset(tiny_dataset_path, verbose=False)
    assert len(builds) == 2
    err = capsys.readouterr().err
    assert message in err and "rebuilding" in err
    assert_same_clips(dataset.annotations, reference.annotations)
    open_cached_dataset(tiny_dataset_path, verbose=False)  # the rebuilt cache is used again
    assert len(builds) == 2


def test_rebuild_flag_forces_a_build(tiny_dataset_path, builds):
    open_cached_dataset(tiny_dataset_path, verbose=False)
    open_cached_dataset(tiny_dataset_path, rebuild=True, verbose=False)
    assert len(builds) == 2


def test_class_subset_holds_only_its_clips_as_views_of_their_rows(tiny_dataset_path):
    reference = load_dataset(tiny_dataset_path)
    rows = np.concatenate([[0], np.cumsum([c["keypoint"].shape[0] * c["keypoint"].shape[1]
                                           for c in reference.annotations])])
    start_row = {clip["frame_dir"]: int(rows[i]) for i, clip in enumerate(reference.annotations)}
    subset = open_cached_dataset(tiny_dataset_path, classes=["Class2", 0], verbose=False)

    wanted = [c for c in reference.annotations if c["label"] in (2, 0)]
    assert len(subset.annotations) == len(wanted) == 40
    assert subset.class_names == ["Class2", "Class0"]
    assert {c["frame_dir"]: c["label"] for c in subset.annotations} == {
        c["frame_dir"]: {2: 0, 0: 1}[c["label"]] for c in wanted}
    kept = {c["frame_dir"] for c in wanted}
    assert subset.split == {name: [m for m in members if m in kept] for name, members in reference.split.items()}
    for clip in subset.annotations:
        whole = mapped_array(clip["keypoint"])
        row_bytes = whole.strides[0]
        offset = clip["keypoint"].__array_interface__["data"][0] - whole.__array_interface__["data"][0]
        assert offset == start_row[clip["frame_dir"]] * row_bytes
        assert np.array_equal(clip["keypoint"], reference.clip(clip["frame_dir"])["keypoint"])


def test_class_subset_errors_match_select_classes(tiny_dataset_path):
    with pytest.raises(UserInputError, match="unknown class name 'Nope'"):
        open_cached_dataset(tiny_dataset_path, classes=["Nope"], verbose=False)
    with pytest.raises(UserInputError, match="out of range"):
        open_cached_dataset(tiny_dataset_path, classes=[7], verbose=False)


def test_open_dataset_uses_the_cache_with_the_same_result(tiny_dataset_path, builds):
    cached = open_dataset(DataConfig(path=str(tiny_dataset_path), classes=[1, 0]), verbose=False)
    plain = open_dataset(DataConfig(path=str(tiny_dataset_path), classes=[1, 0], cache=False), verbose=False)
    assert len(builds) == 1
    assert_same_clips(cached.annotations, plain.annotations)
    assert cached.split == plain.split and cached.class_names == plain.class_names


def test_build_is_atomic_and_cleans_up(tiny_dataset_path, cache_root, monkeypatch, capsys):
    folder = cache_folder(tiny_dataset_path)
    cache_root.mkdir()
    stale = cache_root / f".{folder.name}.tmp-999999999-abc"  # left by a build whose process died
    stale.mkdir()
    real_write = cache._write_bytes

    def fail_on_manifest(path, data):
        if path.name == "manifest.json":
            raise OSError("disk full")
        real_write(path, data)

    monkeypatch.setattr(cache, "_write_bytes", fail_on_manifest)
    dataset = open_cached_dataset(tiny_dataset_path, verbose=False)  # a full disk: read without the cache
    assert type(dataset.annotations) is list and len(dataset.annotations) == 60
    assert "warning: cannot write the dataset cache" in capsys.readouterr().err
    assert list(cache_root.iterdir()) == []  # neither a half-written cache nor the stale temp folder

    monkeypatch.setattr(cache, "_write_bytes", real_write)
    open_cached_dataset(tiny_dataset_path, verbose=False)
    open_cached_dataset(tiny_dataset_path, rebuild=True, verbose=False)  # replaces the existing folder
    assert [p.name for p in cache_root.iterdir()] == [folder.name]
    assert sorted(p.name for p in folder.iterdir()) == [
        "clips.npy", "index.json", "keypoint.npy", "keypoint_score.npy", "manifest.json", "meta.json", "split.npy"]


def test_a_build_removes_caches_of_deleted_sources(tiny_dataset_dict, tmp_path, cache_root):
    gone = save_dataset(tiny_dataset_dict, tmp_path / "gone.pkl")
    kept = save_dataset(tiny_dataset_dict, tmp_path / "kept.pkl")
    open_cached_dataset(gone, verbose=False)
    gone.unlink()
    open_cached_dataset(kept, verbose=False)
    assert [p.name for p in cache_root.iterdir()] == [cache_folder(kept).name]


def test_missing_source_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="dataset file not found"):
        open_cached_dataset(tmp_path / "nope.pkl")


def test_an_object_shared_by_every_clip_is_indexed_once(tiny_dataset_dict, tmp_path):
    """The JSON index once wrote a shared value once per clip (a 25 KB pickle made a 212 MiB index.json)."""
    shared = {"track": [[float(i), float(i + 1)] for i in range(500)]}
    for clip in tiny_dataset_dict["annotations"]:
        clip["meta"] = shared  # one object, referenced by all 60 clips of the pickle
    path = save_dataset(tiny_dataset_dict, tmp_path / "shared.pkl")
    dataset = open_cached_dataset(path, verbose=False)
    index = json.loads((cache_folder(path) / "index.json").read_text())
    assert len(index["extra"]["meta"]["table"]) == 1 and index["extra"]["meta"]["values"] == [0] * 60
    assert (cache_folder(path) / "index.json").stat().st_size < 30_000
    first, second = dataset.annotations[0]["meta"], dataset.annotations[1]["meta"]
    assert first == shared and first is not second  # each clip its own copy, as before


def test_a_cache_folder_that_cannot_be_written_falls_back_to_the_pickle(tiny_dataset_path, cache_root, monkeypatch,
                                                                         capsys):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(cache_root))

    monkeypatch.setattr(cache.tempfile, "mkdtemp", read_only)
    dataset = open_dataset(DataConfig(path=str(tiny_dataset_path), classes=[2, 0]), verbose=False)
    assert dataset.class_names == ["Class2", "Class0"] and len(dataset.annotations) == 40
    err = capsys.readouterr().err
    assert f"warning: cannot write the dataset cache in {cache_root} (Permission denied); reading" in err
    assert not cache_folder(tiny_dataset_path).exists()


def rss_file_mib() -> float:
    """This process's resident file-backed pages (RssFile of /proc/self/status), in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssFile:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no RssFile line")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc/self/status")
def test_released_pages_leave_resident_memory_and_the_clips_read_the_same(tmp_path):
    from tests.conftest import make_tiny_dataset

    data = make_tiny_dataset(num_classes=2, groups=2, clips_per_group=2, frames=(4000, 4001))  # 8 clips of ~0.8 MiB
    path = save_dataset(data, tmp_path / "big.pkl")
    dataset = open_cached_dataset(path, verbose=False)
    before_reading = rss_file_mib()
    totals = [float(np.abs(clip["keypoint"]).sum(dtype=np.float64) + clip["keypoint_score"].sum(dtype=np.float64)) for clip in dataset.annotations]
    read = rss_file_mib() - before_reading
    mapped = sum(clip["keypoint"].nbytes + clip["keypoint_score"].nbytes for clip in dataset.annotations) / 2**20
    assert read > 0.5 * mapped  # reading mapped the clips' pages into this process
    dataset.release_pages()
    assert rss_file_mib() - before_reading < 0.25 * mapped
    again = [float(np.abs(clip["keypoint"]).sum(dtype=np.float64) + clip["keypoint_score"].sum(dtype=np.float64)) for clip in dataset.annotations]
    assert again == totals
