"""The keypoint cache: each video's keypoints on disk, keyed by the file's content and the estimator's settings.

`<cache dir>/poses/<key>.npz` (cache dir: `helpers.paths.cache_dir()`), where
key = SHA-256 of (format version, SHA-256 of the video file's bytes, the
estimator's `settings()`).  A renamed or copied video is found again; an edited
one, or other estimator settings, get a new entry.  Entries are written
atomically; one that cannot be read is ignored (and rewritten by the next
extraction), never trusted.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from helpers.io import atomic_write
from helpers.paths import cache_dir
from helpers.pose.base import PoseEstimator, VideoPose

FORMAT_VERSION = 1


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def entry_for(video: str | Path, estimator: PoseEstimator) -> Path:
    """The cache file that holds (or will hold) `video`'s keypoints under `estimator`'s settings."""
    key = json.dumps({"format": FORMAT_VERSION, "video_sha256": file_digest(video),
                      "estimator": estimator.settings()}, sort_keys=True)
    return cache_dir() / "poses" / f"{hashlib.sha256(key.encode()).hexdigest()}.npz"


def load(entry: Path, source: str) -> VideoPose | None:
    """The VideoPose stored at `entry` (its `source` set to `source`), or None if absent or unreadable."""
    if not entry.is_file():
        return None
    try:
        with np.load(entry, allow_pickle=False) as stored:
            keypoint, score = stored["keypoint"], stored["score"]
            fps, img_shape, layout = float(stored["fps"]), tuple(int(s) for s in stored["img_shape"]), str(stored["layout"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    frames = keypoint.shape[0] if keypoint.ndim == 3 else -1
    if frames < 1 or keypoint.shape[2:] != (2,) or score.shape != keypoint.shape[:2] or len(img_shape) != 2:
        return None
    return VideoPose(keypoint.astype(np.float32), score.astype(np.float32), layout, fps, img_shape, source,
                     from_cache=True)


def store(entry: Path, pose: VideoPose) -> Path:
    """Write a VideoPose at `entry` atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, keypoint=pose.keypoint, score=pose.score, fps=np.float64(pose.fps),
             img_shape=np.array(pose.img_shape, np.int64), layout=np.array(pose.layout))
    return atomic_write(entry, lambda file: file.write(buffer.getvalue()))
