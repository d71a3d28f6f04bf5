"""The `videos` import format: folders of labelled videos, read by `python -m helpers.convert videos`.

`ROOT/<class>/<video>.mp4|avi|mov|mkv|webm` (case-insensitive suffixes); class
names are the sorted folder names, clip ids `<class>/<video file stem>`.  Every
video goes through a pose estimator (`helpers.pose`), one person per frame, in
the estimator's layout (COCO-17 for BlazePose).  Each clip keeps `img_shape`,
`fps` and `source` (the video file).

Videos are estimated in `workers` processes, one video per task (the estimator
itself is single-threaded); keypoints go to the keypoint cache
(`helpers.pose.cache`) as each video finishes, so a second run, or a run after
an interruption, estimates only what is missing.  A video that cannot be read,
or in which nobody is detected, is skipped and named with its reason (or, with
`strict`, stops the run).  Splits are generated as for the `folder` format, or
read from a split file.
"""
from __future__ import annotations

import multiprocessing
import os
import queue as queues
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from helpers.data.importers.folder import clip_ids, find_clip_files, generate_split, read_split_file
from helpers.errors import UserInputError
from helpers.pose import cache
from helpers.pose.base import PoseEstimator, VideoPose
from helpers.pose.extract import extract_video
from helpers.video.reader import VIDEO_SUFFIXES, video_info

PROGRESS_EVERY = 10   # frames between progress messages from a worker


@dataclass
class ExtractionReport:
    """What a folder extraction did: videos estimated now or found in the cache, and the ones skipped."""

    extracted: list[str] = field(default_factory=list)      # clip ids estimated in this run
    cached: list[str] = field(default_factory=list)         # clip ids read from the keypoint cache
    skipped: dict[str, str] = field(default_factory=dict)   # video path -> reason
    frames_extracted: int = 0
    seconds: float = 0.0
    workers: int = 1

    def summary(self) -> str:
        rate = f", {self.frames_extracted / self.seconds:.1f} frames/s" if self.extracted and self.seconds else ""
        text = (f"keypoints of {len(self.extracted) + len(self.cached)} videos: {len(self.extracted)} estimated "
                f"now ({self.frames_extracted} frames in {self.seconds:.1f} s with {self.workers} "
                f"worker{'s' if self.workers > 1 else ''}{rate}), {len(self.cached)} from the cache")
        if self.skipped:
            text += f"; skipped {len(self.skipped)}: " + "; ".join(f"{path} ({reason})"
                                                                  for path, reason in self.skipped.items())
        return text


def find_videos(root: str | Path) -> tuple[list[str], list[tuple[str, Path]], list[Path]]:
    """Class names (sorted folder names), (class, video) pairs, and ignored paths under `root`."""
    return find_clip_files(root, VIDEO_SUFFIXES, what="video")


def problem(pose: VideoPose) -> str | None:
    """Why a video's keypoints cannot make a clip, or None."""
    if pose.person_frames == 0:
        return f"nobody detected in any of its {pose.frames} frames"
    return None


# ---- one video per worker task -------------------------------------------------

_progress_queue = None   # set in each worker process by _start_worker


def _start_worker(queue) -> None:
    global _progress_queue
    _progress_queue = queue
    # the worker's C++ libraries log to its stderr; errors come back as exceptions instead
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)


def _extract_task(position: int, path: str, estimator: PoseEstimator, use_cache: bool, on_frames=None):
    """(position, VideoPose or None, reason or None) of one video; never raises for a bad video.

    Progress, every PROGRESS_EVERY frames: `on_frames(position, count)` in-process,
    else a message on the worker's queue.
    """
    def report(t: int, _frame) -> None:
        if (t + 1) % PROGRESS_EVERY == 0:
            if on_frames is not None:
                on_frames(position, PROGRESS_EVERY)
            elif _progress_queue is not None:
                _progress_queue.put((position, PROGRESS_EVERY))

    try:
        pose = extract_video(path, estimator, use_cache=use_cache, on_frame=report)
    except UserInputError as error:
        return position, None, str(error).removeprefix(f"{path}: ")
    return position, pose, problem(pose)


def extract_folder(videos: list[Path], estimator: PoseEstimator, workers: int = 1, use_cache: bool = True,
                   strict: bool = False, progress: bool = True) -> tuple[list[VideoPose | None], dict[int, str], dict]:
    """Keypoints of every video (None where unreadable), skip reasons by position, and what was estimated.

    Cached videos are read in this process; the others are estimated by `workers`
    processes (in this process when 1).  Progress: a bar over videos and one over
    frames.  With `strict`, the first unusable video raises UserInputError.
    """
    poses: list[VideoPose | None] = [None] * len(videos)
    reasons: dict[int, str] = {}
    todo = []
    for position, path in enumerate(videos):
        cached = cache.load(cache.entry_for(path, estimator), str(path)) if use_cache else None
        if cached is None:
            todo.append(position)
            continue
        poses[position] = cached
        if problem(cached):
            reasons[position] = problem(cached)
    if strict and reasons:
        position = min(reasons)
        raise UserInputError(f"{videos[position]}: {reasons[position]} (--strict stops at an unusable video)")
    totals = {position: _frame_count(videos[position]) for position in todo}
    counted = dict.fromkeys(todo, 0)
    video_bar = tqdm(total=len(videos), initial=len(videos) - len(todo), desc="videos", unit="video",
                     disable=not progress)
    frame_bar = tqdm(total=sum(totals.values()), desc="frames", unit="frame", disable=not progress or not todo)

    def advance(position: int, frames: int) -> None:
        counted[position] += frames
        frame_bar.update(frames)

    def finish(position: int, pose: VideoPose | None, reason: str | None) -> None:
        poses[position] = pose
        frame_bar.update(max(0, totals[position] - counted[position]))
        video_bar.update(1)
        if reason:
            reasons[position] = reason
            if strict:
                raise UserInputError(f"{videos[position]}: {reason} (--strict stops at an unusable video)")
            tqdm.write(f"skipping {videos[position]}: {reason}")

    workers = max(1, min(workers, len(todo)))
    started = time.perf_counter()
    try:
        if workers == 1:
            for position in todo:
                finish(*_extract_task(position, str(videos[position]), estimator, use_cache, advance))
        else:
            # longest first, so that no worker is left with a long video while the others wait
            _run_pool(videos, sorted(todo, key=lambda p: -totals[p]), estimator, use_cache, workers, finish, advance)
    finally:
        video_bar.close()
        frame_bar.close()
    timing = {"frames": sum(poses[p].frames for p in todo if poses[p] is not None),
              "seconds": time.perf_counter() - started, "workers": workers, "estimated": set(todo)}
    return poses, reasons, timing


def _frame_count(path: Path) -> int:
    """The frame count in a video's header (0 if it cannot be opened: its task will say why)."""
    try:
        return video_info(path).frames or 0
    except UserInputError:
        return 0


def _run_pool(videos, todo, estimator, use_cache, workers, finish, advance) -> None:
    """Estimate `todo` in a pool of spawned processes; per-frame progress arrives on a queue."""
    context = multiprocessing.get_context("spawn")   # fresh interpreters: no state copied from this process
    progress = context.Queue()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(progress,)) as pool:
        pending = {pool.submit(_extract_task, p, str(videos[p]), estimator, use_cache) for p in todo}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                while True:
                    try:
                        advance(*progress.get_nowait())
                    except queues.Empty:
                        break
                for future in done:
                    finish(*future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def convert_videos(root: str | Path, estimator: PoseEstimator, split_file: str | Path | None = None,
                   test_fraction: float = 0.3, seed: int = 0, dtype: str = "float32", workers: int = 1,
                   use_cache: bool = True, strict: bool = False, progress: bool = True,
                   videos: list[tuple[str, Path]] | None = None) -> tuple[dict, ExtractionReport]:
    """A dataset dict from `root/<class>/<video>` (format in the module docstring), and what was done.

    `videos` restricts the run to these (class, path) pairs of the folder (e.g. a
    quick subset); class names are still all of the folder's.
    """
    class_names, found, _ = find_videos(root)
    files = found if videos is None else [(c, Path(p)) for c, p in videos]
    unknown = [str(p) for c, p in files if c not in class_names]
    if unknown:
        raise UserInputError(f"{unknown[0]}: not in a class folder of {root}")
    ids = clip_ids(files)
    if split_file is not None:
        split = read_split_file(split_file, ids, VIDEO_SUFFIXES)   # checked before minutes of extraction
    elif not 0.0 < test_fraction < 1.0:
        raise UserInputError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    poses, reasons, timing = extract_folder([p for _, p in files], estimator, workers, use_cache, strict, progress)
    report = ExtractionReport(workers=timing["workers"], frames_extracted=timing["frames"], seconds=timing["seconds"])
    annotations = []
    for position, ((class_name, path), clip_id, pose) in enumerate(zip(files, ids, poses)):
        if position in reasons:
            report.skipped[str(path)] = reasons[position]
            continue
        (report.extracted if position in timing["estimated"] else report.cached).append(clip_id)
        annotations.append(pose.clip(clip_id, class_names.index(class_name), dtype))
    if not annotations:
        raise UserInputError(f"{root}: no usable video ({report.summary()})")
    kept = [clip["frame_dir"] for clip in annotations]
    if split_file is not None:
        split = {name: [i for i in members if i in set(kept)] for name, members in split.items()}
    else:
        split = generate_split(kept, [clip["label"] for clip in annotations], test_fraction, seed)
    layout = estimator.layout.name
    return ({"split": split, "annotations": annotations, "class_names": class_names, "layout": layout,
             "pose_estimator": estimator.settings()}, report)
