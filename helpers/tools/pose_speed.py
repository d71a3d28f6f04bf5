"""Command: how fast videos become keypoints and predictions on this machine.

    python -m helpers.tools.pose_speed [--root DIR] [--workers 1,2] [--video FILE --ckpt CKPT] [--out DIR]

Prints, for the video folder ROOT/<class>/<video> (default: the real push-up
sample, ../shared/data/pushfit_sample/videos):

- decoding alone: frames/s of reading every frame (one process);
- pose extraction (MediaPipe BlazePose, keypoint cache off): frames/s of the whole
  folder with each number of worker processes in `--workers`, start-up included,
  and frames per CPU-second (this process and its workers), which other work on
  the machine changes less than the wall-clock rate;
- end to end, with `--video` and `--ckpt`: seconds from the command
  `python -m helpers.predict --ckpt CKPT --video FILE --no-cache` starting to its
  prediction printed (a fresh process: imports, decoding, pose, the model), and
  the CPU-seconds it used.

The load average is printed beside the figures, since other work on the machine
slows every one of them.  Writes pose_speed.json into --out (default runs/pose_speed).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from helpers.cli import parse_list, run_command
from helpers.data.importers.videos import extract_folder, find_videos
from helpers.errors import UserInputError
from helpers.io import atomic_write_json
from helpers.paths import PROJECT_ROOT, runs_dir, shared_data_dir
from helpers.pose.blazepose import BlazePose
from helpers.video.reader import open_video


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def decode_speed(videos: list[Path]) -> dict:
    """Frames and seconds of reading every frame of `videos` (RGB conversion included)."""
    started, frames = time.perf_counter(), 0
    for path in videos:
        with open_video(path) as video:
            frames += sum(1 for _ in video)
    seconds = time.perf_counter() - started
    return {"frames": frames, "seconds": seconds, "frames_per_s": frames / seconds}


def extraction_speed(videos: list[Path], workers: int, estimator=None) -> dict:
    """Frames and seconds of estimating every video with `workers` processes (cache neither read nor written);
    `estimator`: BlazePose with its defaults unless given."""
    started, cpu = time.perf_counter(), cpu_seconds()
    poses, reasons, _ = extract_folder(videos, estimator or BlazePose(), workers=workers, use_cache=False,
                                       progress=False)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    frames = sum(pose.frames for pose in poses if pose is not None)
    return {"workers": workers, "videos": len(videos), "skipped": len(reasons), "frames": frames,
            "seconds": seconds, "frames_per_s": frames / seconds, "cpu_seconds": cpu,
            "frames_per_cpu_s": frames / cpu if cpu > 0 else float("nan")}


def end_to_end(video: Path, checkpoint: Path) -> dict:
    """Wall seconds of `python -m helpers.predict --ckpt CHECKPOINT --video VIDEO --no-cache` in a fresh process."""
    command = [sys.executable, "-m", "helpers.predict", "--ckpt", str(checkpoint), "--video", str(video), "--no-cache"]
    started, cpu = time.perf_counter(), cpu_seconds()
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if result.returncode != 0:
        raise UserInputError(f"predict failed ({result.returncode}): {result.stderr.strip().splitlines()[-1]}")
    read = next((line for line in result.stdout.splitlines() if line.startswith("read ")), "")
    return {"video": str(video), "checkpoint": str(checkpoint), "seconds": seconds, "cpu_seconds": cpu, "read": read,
            "command": " ".join(["python", *command[1:]])}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.tools.pose_speed",
                                     description="Decoding and pose extraction frames/s for a video folder, and "
                                                 "seconds from a video to its prediction.")
    parser.add_argument("--root", help="ROOT/<class>/<video> folder (default: the push-up sample)")
    parser.add_argument("--workers", default="1,2", help="worker counts to time, comma-separated (default 1,2)")
    parser.add_argument("--video", help="video for the end-to-end time (needs --ckpt)")
    parser.add_argument("--ckpt", help="checkpoint for the end-to-end time")
    parser.add_argument("--out", help="folder for pose_speed.json (default runs/pose_speed)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.video) != bool(args.ckpt):
        raise UserInputError("--video and --ckpt go together (the end-to-end time needs both)")
    root = Path(args.root) if args.root else shared_data_dir() / "pushfit_sample" / "videos"
    videos = [path for _, path in find_videos(root)[1]]
    workers = parse_list(args.workers, "workers", int)
    report = {"root": str(root), "cpu_count": os.cpu_count(), "load_before": os.getloadavg()[0]}
    report["decode"] = decode = decode_speed(videos)
    print(f"{len(videos)} videos, {decode['frames']} frames in {root} (load average {report['load_before']:.1f}, "
          f"{os.cpu_count()} CPUs)")
    print(f"decoding:        {decode['frames_per_s']:7.1f} frames/s  ({decode['seconds']:.1f} s)")
    report["extraction"] = []
    for count in workers:
        figures = extraction_speed(videos, count)
        report["extraction"].append(figures)
        print(f"pose, {count} worker{'s' if count > 1 else ' '}: {figures['frames_per_s']:7.1f} frames/s  "
              f"({figures['seconds']:.1f} s; {figures['frames_per_cpu_s']:.1f} frames per CPU-second; "
              f"load average {os.getloadavg()[0]:.1f})")
    if args.video:
        report["end_to_end"] = figures = end_to_end(Path(args.video), Path(args.ckpt))
        print(f"end to end:      {figures['seconds']:7.1f} s  ({figures['cpu_seconds']:.1f} CPU-seconds) for "
              f"{figures['read'].removeprefix('read ')}")
        print(f"                 ({figures['command']})")
    out = Path(args.out) if args.out else runs_dir() / "pose_speed"
    print(f"wrote {atomic_write_json(out / 'pose_speed.json', report)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
