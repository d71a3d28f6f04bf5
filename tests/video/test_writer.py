"""Writing MP4 and GIF: frames come back, and a failed write leaves no file."""
import numpy as np
import pytest
from PIL import Image

from helpers.errors import UserInputError
from helpers.video.reader import read_frames
from helpers.video.writer import VideoWriter, write_video


def _frames(count=10):
    return [np.full((48, 64, 3), 20 * t, np.uint8) for t in range(count)]


def test_mp4_and_gif_round_trip(tmp_path):
    assert write_video(tmp_path / "a.mp4", _frames(), fps=25) == 10
    back = read_frames(tmp_path / "a.mp4")
    assert len(back) == 10 and back[3].shape == (48, 64, 3)
    levels = [float(f.mean()) for f in back]
    assert levels[0] == pytest.approx(0, abs=3) and all(a < b for a, b in zip(levels, levels[1:]))
    write_video(tmp_path / "a.gif", _frames(), fps=25)
    gif = Image.open(tmp_path / "a.gif")
    assert gif.n_frames == 4 and gif.size == (64, 48)      # thinned from 25 to at most 10 fps: every 3rd frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif", "a.mp4"]


def test_interrupted_or_empty_writes_leave_nothing(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with VideoWriter(tmp_path / "b.mp4", fps=25) as writer:
            writer.write(_frames(1)[0])
            raise KeyboardInterrupt
    with pytest.raises(UserInputError, match="no frames to write"):
        write_video(tmp_path / "c.gif", [], fps=25)
    with pytest.raises(UserInputError, match=r"can only write \.mp4 or \.gif"):
        write_video(tmp_path / "d.avi", _frames(2), fps=25)
    assert list(tmp_path.iterdir()) == []
