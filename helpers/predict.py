"""Command: top-k classes for one clip of keypoints, or for a video (with a timeline and a rendering).

    python -m helpers.predict --ckpt runs/improved/best.pt --input FILE [--clip FRAME_DIR] [--top-k 3]
                              [--device auto|cpu|cuda[:N]]
    python -m helpers.predict --ckpt runs/mine/best.pt --video clip.mp4 [--window N --stride N]
                              [--out timeline.csv|.json] [--render out.mp4|.gif]
    python -m helpers.predict --ckpt runs/mine/best.pt --video 0 --max-seconds 10    # camera 0
    python -m helpers.predict --onnx model.onnx --input FILE [--clip FRAME_DIR]   # numpy + onnxruntime, no torch
    python -m helpers.predict --ckpt runs/auto/classical/last.pt --ckpt runs/auto/ddnet/last.pt --input FILE

Several `--ckpt` are fused late (their class probabilities averaged), as in evaluate.

FILE is a pickle holding one annotation dict, a list of them, or a whole dataset
(then --clip picks the clip).  Pickles are read with the restricted unpickler.
A video goes through the pose estimator (helpers.pose.blazepose) frame by frame,
a file and a camera alike; the video part is in helpers.evaluation.video_prediction.
With --onnx (a file from python -m helpers.export) keypoint clips are classified
by onnxruntime; torch is never imported on that path.
"""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import sys
import tempfile
from pathlib import Path

import numpy as np

from helpers.cli import add_device_argument, run_command
from helpers.data.dataset import SkeletonDataset, validate_clip, validate_dataset
from helpers.data.safe_pickle import safe_load
from helpers.data.source import is_default_dataset, open_dataset
from helpers.errors import UserInputError, printable
from helpers.evaluation import input_checks
from helpers.evaluation.onnx_model import OnnxClassifier
from helpers.pose.blazepose import BlazePose
from helpers.transforms.preprocess import rank_persons

SHOWN_IDS = 8   # clip ids listed when --clip is missing or unknown


def clip_choice_error(path, ids: list[str], wanted: str | None) -> UserInputError:
    """'--clip is missing / unknown' naming a close match (difflib) and the first ids."""
    ids = sorted(ids)
    listed = ", ".join(ids[:SHOWN_IDS]) + (f", ... ({len(ids)} in all)" if len(ids) > SHOWN_IDS else "")
    if wanted is None:
        return UserInputError(f"{path}: holds {len(ids)} clips; choose one with --clip FRAME_DIR: {listed}")
    close = difflib.get_close_matches(wanted, ids, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return UserInputError(f"{path}: no clip with frame_dir {wanted!r}{hint} Clips: {listed}")


def read_clips(path: str, clip_id: str | None) -> tuple[list[dict], SkeletonDataset | None]:
    """The annotation dicts to predict from FILE (validated), and the dataset when FILE is one."""
    data = safe_load(path)
    dataset = None
    if isinstance(data, dict) and "annotations" in data:
        dataset = validate_dataset(data, path)
        clips = list(dataset.annotations)
        if clip_id is None and len(clips) > 1:
            raise clip_choice_error(path, [c["frame_dir"] for c in clips], None)
    elif isinstance(data, dict):
        clips = [validate_clip(data, path)]
    elif isinstance(data, list):
        clips = [validate_clip(clip, path, position=i) for i, clip in enumerate(data)]
    else:
        raise UserInputError(f"{path}: expected an annotation dict, a list of them or a dataset dict, "
                             f"got {type(data).__name__}")
    if clip_id is not None:
        chosen = [clip for clip in clips if clip["frame_dir"] == clip_id]
        if not chosen:
            raise clip_choice_error(path, [c["frame_dir"] for c in clips], clip_id)
        clips = chosen
    return clips, dataset


def top_k(probabilities: np.ndarray, class_names: list[str], k: int) -> list[tuple[str, float]]:
    order = np.argsort(-probabilities)[:k]
    return [(class_names[i], float(probabilities[i])) for i in order]


def print_top(best: list[tuple[str, float]]) -> None:
    for rank, (name, probability) in enumerate(best, 1):
        print(f"  {rank}. {printable(name):<24s} {probability:.3f}")


def describe_prediction(checkpoint, clip: dict, k: int = 3, class_names: list[str] | None = None,
                        device: str = "auto") -> list[tuple[str, float]]:
    """Print the clip's shape, the person used, the top-k classes and the true label when the clip
    carries one (`class_names`: the input's own); returns the top-k pairs.

    `checkpoint`: a LoadedCheckpoint, a list of them (fused late: the mean of their class
    probabilities), or an OnnxClassifier (helpers.evaluation.onnx_model; runs on CPU)."""
    members = list(checkpoint) if isinstance(checkpoint, (list, tuple)) else [checkpoint]
    checkpoint = members[0]
    for member in members:
        member.check_fits(f"clip {clip['frame_dir']!r}", clip["keypoint"].shape[2])
    persons = clip["keypoint"].shape[0]
    order = rank_persons(clip["keypoint_score"], checkpoint.preprocess.person)
    print(f"clip {printable(clip['frame_dir'])}: keypoint shape {tuple(clip['keypoint'].shape)} (M, T, V, 2)")
    rule = "highest total score" if checkpoint.preprocess.person == "max_score" else "first slot"
    print(f"person used: slot {int(order[0])} of {persons} ({rule})")
    if isinstance(checkpoint, OnnxClassifier):  # numpy and onnxruntime only
        probabilities = checkpoint.probabilities([clip])[0]
    else:
        from helpers.evaluation.scoring import fused_probabilities  # here: torch only on the --ckpt path

        probabilities = fused_probabilities(members, [clip], device=device)[0]
    best = top_k(probabilities, checkpoint.class_names, k)
    print_top(best)
    verdict = input_checks.label_verdict(input_checks.true_label(clip, class_names), best[0][0], checkpoint)
    if verdict:
        print(verdict)
    return best


def warn(messages: list[str | None]) -> None:
    for message in messages:
        if message:
            print(f"warning: {message}", file=sys.stderr)


def predict_keypoints(args, checkpoints: list) -> None:
    """Top-k of each clip of --input (without --input: clip --clip of the checkpoint's own dataset); with
    checkpoints (not ONNX) also the warnings on the input's fit."""
    checkpoint = checkpoints[0]
    onnx = isinstance(checkpoint, OnnxClassifier)
    if args.input is None:
        if onnx:
            raise UserInputError("--onnx needs --input FILE")
        data = dataclasses.replace(checkpoint.config.data,
                                   path=checkpoint.state.get("data_source") or checkpoint.config.data.path)
        dataset = open_dataset(data, verbose=False)
        source = str(dataset.source)
        ids = [clip["frame_dir"] for clip in dataset.annotations]
        if args.clip not in ids:
            raise clip_choice_error(source, ids, args.clip)
        clips = [dataset.clip(args.clip)]
    else:
        source = args.input
        clips, dataset = read_clips(args.input, args.clip)
    if dataset is not None:
        checkpoint.check_fits(source, dataset.layout.num_joints, dataset.layout.name)
    names = dataset.class_names if dataset is not None else None
    if not onnx:
        warn(input_checks.input_warnings(checkpoint, source, names, is_default_dataset(source)))
    for clip in clips:
        if dataset is not None and not onnx:
            warn([input_checks.training_clip_warning(checkpoint, source, dataset.split, clip["frame_dir"])])
        describe_prediction(checkpoints, clip, args.top_k, names, args.device or "auto")


def predict_video(args, checkpoint) -> None:
    """Extract, print what was read, the top-k and the timeline; write --out and --render."""
    # video decoding, the timeline and rendering pull in OpenCV and torch: imported on this path only
    from helpers.evaluation.timeline import format_timeline, write_timeline
    from helpers.evaluation.video_prediction import predict_pose, render_prediction
    from helpers.pose.extract import read_video_pose
    from helpers.video.reader import parse_source
    from helpers.video.writer import check_writable

    estimator = BlazePose.from_arguments(args)
    checkpoint.check_fits(str(args.video), estimator.layout.num_joints, estimator.layout.name)
    if args.render:
        check_writable(args.render)
    if args.out and Path(args.out).suffix.lower() not in (".csv", ".json"):
        raise UserInputError(f"{args.out}: write the timeline as .csv or .json")
    stream = args.stream or isinstance(parse_source(args.video), int)
    with tempfile.TemporaryDirectory() as scratch:
        capture = Path(scratch) / "capture.mp4" if args.render and stream else None
        pose = read_video_pose(args.video, estimator, not args.no_cache, args.stream, args.max_seconds, capture)
        print(f"read {pose.describe()}" + (" (keypoints from the cache)" if pose.from_cache else ""))
        warn(input_checks.input_warnings(checkpoint, args.video))
        if pose.person_frames == 0:
            raise UserInputError(f"{pose.source}: nobody detected in any of its {pose.frames} frames")
        prediction = predict_pose(checkpoint, pose, args.window, args.stride, args.device or "auto")
        print(f"whole clip ({pose.frames} frames):")
        print_top(prediction.top(args.top_k))
        verdict = input_checks.label_verdict(input_checks.video_label(args.video, checkpoint),
                                             prediction.top(1)[0][0], checkpoint)
        if verdict:
            print(verdict)
        if prediction.has_timeline:
            print(f"timeline: windows of {prediction.window} frames ({prediction.window / pose.fps:.2f} s), "
                  f"one every {prediction.stride} frames")
            print(format_timeline(prediction.windows))
        if args.out:
            print(f"wrote {write_timeline(prediction.windows, args.out)}")
        if args.render:
            count = render_prediction(prediction, capture or args.video, args.render,
                                      checkpoint.preprocess.min_score)
            print(f"wrote {args.render} ({count} frames)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.predict",
                                     description="Print the top-k action classes for a clip of keypoints or a "
                                                 "video (with a timeline over sliding windows).")
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--ckpt", action="append",
                       help="checkpoint, e.g. runs/improved/best.pt; repeat it to fuse several models' scores")
    model.add_argument("--onnx", help="ONNX file from python -m helpers.export (keypoint input; needs no torch)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--input", help="pickle with one annotation dict, a list of them, or a dataset (then "
                                        "use --clip); without --input and --video, --clip names a clip of the "
                                        "checkpoint's own dataset")
    source.add_argument("--video", help="video file (mp4, avi, mov, mkv, webm), or a camera index such as 0")
    parser.add_argument("--clip", help="frame_dir of the clip to predict, e.g. v_ApplyEyeMakeup_g01_c01")
    parser.add_argument("--top-k", type=int, default=3, help="number of classes to print (default 3)")
    add_device_argument(parser, default="auto")
    video = parser.add_argument_group("videos")
    video.add_argument("--window", type=int, help="timeline window in frames (default: the checkpoint's "
                                                  "preprocess.length)")
    video.add_argument("--stride", type=int, help="frames between window starts (default: half a window)")
    video.add_argument("--out", help="write the timeline as .csv or .json")
    video.add_argument("--render", help="write the video with skeleton and label drawn, .mp4 or .gif")
    video.add_argument("--max-seconds", type=float, help="stop reading after this many seconds (a camera "
                                                         "reads 10 s unless told otherwise)")
    video.add_argument("--stream", action="store_true", help="read a file frame by frame as a camera is read "
                                                             "(no frame count, no cache)")
    video.add_argument("--no-cache", action="store_true", help="estimate the keypoints again (the cache is "
                                                                "neither read nor written)")
    BlazePose.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.top_k < 1:
        raise UserInputError(f"--top-k must be at least 1, got {args.top_k}")
    if args.input is None and args.video is None and args.clip is None:
        raise UserInputError("give --input FILE, --video VIDEO, or --clip ID (a clip of the checkpoint's own dataset)")
    if args.video is None:
        for flag in ("window", "stride", "out", "render", "max_seconds"):
            if getattr(args, flag) is not None:
                raise UserInputError(f"--{flag.replace('_', '-')} applies to --video only")
    if args.onnx:
        if args.video is not None:
            raise UserInputError("--video needs --ckpt (--onnx classifies keypoint files)")
        checkpoints = [OnnxClassifier(args.onnx)]
    else:
        # here: --onnx runs without torch
        from helpers.evaluation.scoring import check_fusable
        from helpers.training.checkpoint import load_checkpoint

        checkpoints = [load_checkpoint(path) for path in args.ckpt]
        check_fusable(checkpoints)
    if args.video is not None:
        if len(checkpoints) > 1:
            raise UserInputError("--video takes one --ckpt")
        predict_video(args, checkpoints[0])
    else:
        predict_keypoints(args, checkpoints)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
