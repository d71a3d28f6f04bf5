"""The pose speed benchmark runs on a tiny folder and writes its figures (timing itself is not tested)."""
import json

import pytest

from helpers.cli import run_command
from helpers.tools import pose_speed
from tests.conftest import FakeEstimator, require_mediapipe, write_test_video


def test_decode_and_extraction_figures(tmp_path):
    videos = [write_test_video(tmp_path / "v" / "a" / f"{i}.mp4", frames=5 + i) for i in range(2)]
    decode = pose_speed.decode_speed(videos)
    assert decode["frames"] == 11 and decode["frames_per_s"] > 0
    figures = pose_speed.extraction_speed(videos, 1, FakeEstimator(offset=7.0))
    assert (figures["frames"], figures["videos"], figures["skipped"], figures["workers"]) == (11, 2, 0, 1)


def test_the_command_prints_and_writes_its_report(tmp_path, capsys):
    require_mediapipe()
    write_test_video(tmp_path / "v" / "a" / "blank.mp4", frames=4, size=(96, 128), brightness=90)
    assert run_command(pose_speed.main, ["--root", str(tmp_path / "v"), "--workers", "1",
                                         "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "1 videos, 4 frames in" in printed and "decoding:" in printed and "pose, 1 worker" in printed
    report = json.loads((tmp_path / "out" / "pose_speed.json").read_text())
    assert report["extraction"][0]["frames"] == 4 and report["extraction"][0]["skipped"] == 1   # nobody in it
    assert run_command(pose_speed.main, ["--root", str(tmp_path / "v"), "--video", "x.mp4"]) == 2
