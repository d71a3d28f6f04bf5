"""Command: top-k classes for one clip.

    python -m helpers.predict --ckpt runs/improved/best.pt --input FILE [--clip FRAME_DIR] [--top-k 3]
    python -m helpers.predict --ckpt runs/auto/classical/last.pt --ckpt runs/auto/ddnet/last.pt --input FILE

Several `--ckpt` are fused late (their class probabilities averaged), as in evaluate.
FILE is a pickle holding one annotation dict, a list of them, or a whole dataset
(then --clip picks the clip).  Pickles are read with the restricted unpickler.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from helpers.training.checkpoint import LoadedCheckpoint, load_checkpoint
from helpers.cli import run_command
from helpers.data.dataset import validate_clip, validate_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import check_fusable, fused_probabilities
from helpers.data.safe_pickle import safe_load
from helpers.transforms.preprocess import rank_persons


def read_clips(path: str, clip_id: str | None) -> list[dict]:
    """The annotation dicts to predict from FILE (validated)."""
    data = safe_load(path)
    if isinstance(data, dict) and "annotations" in data:
        clips = validate_dataset(data, path).annotations
        if clip_id is None:
            if len(clips) == 1:
                return clips
            raise UserInputError(f"{path}: holds {len(clips)} clips; choose one with --clip FRAME_DIR "
                                 f"(e.g. {clips[0]['frame_dir']})")
    elif isinstance(data, dict):
        clips = [validate_clip(data, path)]
    elif isinstance(data, list):
        clips = [validate_clip(clip, path, position=i) for i, clip in enumerate(data)]
    else:
        raise UserInputError(f"{path}: expected an annotation dict, a list of them or a dataset dict, "
                             f"got {type(data).__name__}")
    if clip_id is not None:
        clips = [clip for clip in clips if clip["frame_dir"] == clip_id]
        if not clips:
            raise UserInputError(f"{path}: no clip with frame_dir {clip_id!r}")
    return clips


def top_k(probabilities: np.ndarray, class_names: list[str], k: int) -> list[tuple[str, float]]:
    order = np.argsort(-probabilities)[:k]
    return [(class_names[i], float(probabilities[i])) for i in order]


def describe_prediction(checkpoint: LoadedCheckpoint | list[LoadedCheckpoint], clip: dict,
                        k: int = 3) -> list[tuple[str, float]]:
    """Print the clip's shape, the person used and the top-k classes; returns the top-k pairs.
    A list of checkpoints is fused late (mean of their class probabilities)."""
    checkpoints = list(checkpoint) if isinstance(checkpoint, (list, tuple)) else [checkpoint]
    check_fusable(checkpoints)
    checkpoint = checkpoints[0]
    for member in checkpoints:
        member.check_fits(f"clip {clip['frame_dir']!r}", clip["keypoint"].shape[2])
    persons = clip["keypoint"].shape[0]
    order = rank_persons(clip["keypoint_score"], checkpoint.preprocess.person)
    print(f"clip {clip['frame_dir']}: keypoint shape {tuple(clip['keypoint'].shape)} (M, T, V, 2)")
    rule = "highest total score" if checkpoint.preprocess.person == "max_score" else "first slot"
    print(f"person used: slot {int(order[0])} of {persons} ({rule})")
    probabilities = fused_probabilities(checkpoints, [clip])[0]
    best = top_k(probabilities, checkpoint.class_names, k)
    for rank, (name, probability) in enumerate(best, 1):
        print(f"  {rank}. {name:<24s} {probability:.3f}")
    return best


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.predict",
                                     description="Print the top-k action classes for a clip.")
    parser.add_argument("--ckpt", required=True, action="append",
                        help="checkpoint, e.g. runs/improved/best.pt; repeat it to fuse several models' scores")
    parser.add_argument("--input", required=True,
                        help="pickle with one annotation dict, a list of them, or a dataset (then use --clip)")
    parser.add_argument("--clip", help="frame_dir of the clip to predict, e.g. v_ApplyEyeMakeup_g01_c01")
    parser.add_argument("--top-k", type=int, default=3, help="number of classes to print (default 3)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.top_k < 1:
        raise UserInputError(f"--top-k must be at least 1, got {args.top_k}")
    checkpoints = [load_checkpoint(path) for path in args.ckpt]
    for clip in read_clips(args.input, args.clip):
        describe_prediction(checkpoints, clip, args.top_k)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
