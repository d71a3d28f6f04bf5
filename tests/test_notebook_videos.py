"""Notebook 06's settings: which video folder, what a smoke run converts, how it trains."""
import pytest

from helpers.errors import UserInputError
from helpers.notebook_videos import SMOKE_VIDEOS_PER_CLASS, VIDEOS_ENV, VideoSettings
from tests.conftest import write_test_video


def test_the_folder_comes_from_the_setting_else_the_sample_else_none(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_ACTIONS_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv(VIDEOS_ENV, str(tmp_path / "mine"))
    with pytest.raises(UserInputError, match=f"{VIDEOS_ENV}=.*mine: folder not found"):
        VideoSettings.from_env(False)
    (tmp_path / "mine").mkdir()
    settings = VideoSettings.from_env(False)
    assert settings.root == tmp_path / "mine" and settings.available
    assert settings.out_dir == tmp_path / "runs" / "videos" and VideoSettings.from_env(True).out_dir.name == "videos_smoke"
    monkeypatch.delenv(VIDEOS_ENV)
    monkeypatch.setenv("SKELETON_ACTIONS_SHARED_DATA", str(tmp_path / "nothing"))
    none = VideoSettings.from_env(False)
    assert not none.available and "NO VIDEO FOLDER" in none.describe() and f"{VIDEOS_ENV}=FOLDER" in none.describe()


def test_smoke_runs_take_the_shortest_videos_and_one_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_ACTIONS_RUNS", str(tmp_path / "runs"))
    for name in ("run", "sit"):
        for index, frames in enumerate((9, 3, 7, 5, 4)):
            write_test_video(tmp_path / "mine" / name / f"{name}{index}.mp4", frames=frames)
    monkeypatch.setenv(VIDEOS_ENV, str(tmp_path / "mine"))
    smoke, full = VideoSettings.from_env(True), VideoSettings.from_env(False)
    picked = smoke.videos()
    assert len(picked) == 2 * SMOKE_VIDEOS_PER_CLASS == 6 and len(full.videos()) == 10
    assert [p.name for c, p in picked if c == "run"] == ["run1.mp4", "run4.mp4", "run3.mp4"]   # 3, 4, 5 frames
    config = smoke.config()
    assert config.train.epochs == 1 and config.model.name == "ddnet" and config.preprocess.sampling == "uniform"
    assert config.data.path == str(smoke.dataset_path) and full.config().train.epochs == 60
