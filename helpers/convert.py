"""Command: import keypoints from other formats into the project's one dataset format.

    python -m helpers.convert ddnet --train GT_train_1.pkl --test GT_test_1.pkl [--train ... --test ...]
                                    --out data/jhmdb.pkl [--layout NAME]
    python -m helpers.convert folder ROOT --out data/mine.pkl [--layout NAME]
                                    [--split-file FILE | --test-fraction 0.3 --seed 0]
    python -m helpers.convert videos ROOT --out data/mine.pkl [--workers N] [--strict] [--no-cache]
                                    [--split-file FILE | --test-fraction 0.3 --seed 0]

Every conversion writes a PYSKL pickle (`split`, `annotations` with `frame_dir`,
`label`, `total_frames`, `keypoint` (M, T, V, 2), `keypoint_score` (M, T, V),
plus top-level `class_names` and `layout`), validated before it is written,
written atomically, and validated again by loading it back.

The formats are described in `helpers.data.importers.ddnet` (ddnet),
`helpers.data.importers.folder` (folder) and `helpers.data.importers.videos` (videos, through the
pose estimator of `helpers.pose.blazepose`); what they share is in `helpers.data.importers.common`.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from helpers.cli import run_command
from helpers.data.dataset import SkeletonDataset, load_dataset, save_dataset, validate_dataset
from helpers.data.importers.ddnet import convert_ddnet
from helpers.errors import UserInputError, printable
from helpers.data.importers.folder import CLIP_SUFFIXES, convert_folder, find_clip_files
from helpers.data.importers.common import fail
from helpers.data.importers.videos import convert_videos, find_videos
from helpers.pose.blazepose import BlazePose
from helpers.video.reader import VIDEO_SUFFIXES


def write_dataset(data: dict, out: str | Path, overwrite: bool = False) -> SkeletonDataset:
    """Validate `data`, write it atomically to `out`, and return it as loaded back from disk."""
    out = Path(out)
    if out.exists() and not overwrite:
        fail(out, "already exists; pass --overwrite to replace it")
    validate_dataset(data, out)
    save_dataset(data, out)
    return load_dataset(out)


def split_warnings(dataset: SkeletonDataset) -> list[str]:
    """Classes missing from a split (e.g. a generated test split that took no clip of a class)."""
    warnings = []
    for name, members in sorted(dataset.split.items()):
        present = {dataset.clip(i)["label"] for i in members}
        absent = [dataset.class_names[k] for k in range(dataset.num_classes) if k not in present]
        if absent:
            warnings.append(f"split {printable(name)} has no clip of class(es) {printable(', '.join(absent[:5]))}"
                            f"{' ...' if len(absent) > 5 else ''}")
    return warnings


def summary(dataset: SkeletonDataset) -> str:
    splits = ", ".join(f"{name} {len(members)}" for name, members in sorted(dataset.split.items()))
    return (f"wrote {Path(dataset.source).resolve()}: {len(dataset.annotations)} clips, {dataset.num_classes} "
            f"classes, layout {dataset.layout.name} ({dataset.layout.num_joints} joints); splits: {splits}; "
            f"ids like {dataset.annotations[0]['frame_dir']!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.convert",
        description="Convert keypoints from other formats into the project's dataset pickle "
                    "(PYSKL format with class_names and layout), written atomically and validated.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  python -m helpers.convert ddnet --train GT_train_1.pkl --test GT_test_1.pkl --out data/jhmdb.pkl\n"
               "  python -m helpers.convert folder my_clips/ --out data/mine.pkl --test-fraction 0.3 --seed 0\n"
               "  python -m helpers.convert videos my_videos/ --out data/mine.pkl --workers 2\n"
               "run 'python -m helpers.convert FORMAT --help' for a format's details")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--out", required=True, help="dataset pickle to write")
    output.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                        help="storage type of keypoints and scores (default float32)")
    output.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    common = argparse.ArgumentParser(add_help=False, parents=[output])
    common.add_argument("--layout", help="skeleton layout name (default: inferred from the joint count: "
                                         "17 coco17, 15 jhmdb15, 18 openpose18)")
    splits = argparse.ArgumentParser(add_help=False)
    splits.add_argument("--split-file", help="JSON {\"train1\": [ids], \"test1\": [ids]} or text lines "
                                             "'<split> <clip id>' (ids may be given as unique file stems)")
    splits.add_argument("--test-fraction", type=float, help="share of clips for test1 (default 0.3)")
    splits.add_argument("--seed", type=int, help="seed of the generated split (default 0)")
    formats = parser.add_subparsers(dest="format", required=True, metavar="FORMAT")

    ddnet = formats.add_parser(
        "ddnet", parents=[common], help="DD-Net / JHMDB pickles {'pose': [(T, V, 2)], 'label': [str]}",
        description="DD-Net / JHMDB pickles {'pose': [array (T, V, 2)], 'label': [str]}, one --train/--test "
                    "pair per split; pairs become train1/test1, train2/test2, ... in the order given. Scores "
                    "are set to 1; class names are sorted; clip ids are <label>_<side><N>_<index>, and a pose "
                    "repeated in a later split reuses its earlier clip.")
    ddnet.add_argument("--train", action="append", required=True, metavar="FILE", help="training pickle (repeat)")
    ddnet.add_argument("--test", action="append", required=True, metavar="FILE", help="test pickle (repeat)")

    folder = formats.add_parser(
        "folder", parents=[common, splits], help="per-clip files ROOT/<class>/<clip>.json|.npy|.npz",
        description="Per-clip keypoint files ROOT/<class>/<clip>.json|.npy|.npz; class names are the sorted "
                    "folder names, clip ids are <class>/<stem>. JSON: a list of frames, each a list of joints "
                    "[x, y], [x, y, score], {\"x\", \"y\", \"score\"} or null, or {\"keypoints\": [...]}. NumPy: "
                    "(T, V, 2|3) or (M, T, V, 2|3); a .npz holds one array or one named 'keypoint(s)'. "
                    "Without --split-file, train1/test1 are drawn with --seed: whole gXX groups (from names "
                    "ending _gXX_cYY) or, without groups, a class-stratified sample.")
    folder.add_argument("root", help="folder with one sub-folder per class")
    folder.add_argument("--img-shape", type=int, nargs=2, metavar=("H", "W"), help="image size, stored per clip")

    videos = formats.add_parser(
        "videos", parents=[output, splits], help="videos ROOT/<class>/<video>.mp4|avi|mov|mkv|webm",
        description="Videos ROOT/<class>/<video>.mp4|avi|mov|mkv|webm through MediaPipe BlazePose (COCO-17 "
                    "keypoints, one person per frame); class names are the sorted folder names, clip ids "
                    "<class>/<stem>; each clip keeps img_shape, fps and its source file. Keypoints are cached "
                    "per video (keyed by the file's content and the estimator settings), so a second run "
                    "estimates nothing it already has. Unreadable videos and videos without a person are "
                    "skipped and named (--strict: the run fails instead). Splits as for 'folder'.")
    videos.add_argument("root", help="folder with one sub-folder per class")
    videos.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes estimating videos, one video each (default: the CPU count)")
    videos.add_argument("--strict", action="store_true", help="fail at the first unusable video")
    videos.add_argument("--no-cache", action="store_true", help="estimate every video again (cache not read "
                                                                  "or written)")
    BlazePose.add_arguments(videos)
    return parser


def check_split_arguments(args) -> None:
    if args.split_file and (args.test_fraction is not None or args.seed is not None):
        raise UserInputError("--split-file and --test-fraction/--seed exclude each other")


def _convert_videos(args) -> dict:
    check_split_arguments(args)
    if Path(args.out).exists() and not args.overwrite:   # before minutes of pose estimation, not after
        fail(args.out, "already exists; pass --overwrite to replace it")
    if args.workers < 1:
        raise UserInputError(f"--workers must be at least 1, got {args.workers}")
    estimator = BlazePose.from_arguments(args)
    data, report = convert_videos(args.root, estimator, args.split_file,
                                  0.3 if args.test_fraction is None else args.test_fraction, args.seed or 0,
                                  args.dtype, args.workers, not args.no_cache, args.strict)
    print(report.summary())
    _note_ignored(find_videos(args.root)[2], f"<video>{'|'.join(VIDEO_SUFFIXES)}")
    return data


def _note_ignored(ignored: list[Path], pattern: str) -> None:
    if ignored:
        print(f"ignored {len(ignored)} entries that are not ROOT/<class>/{pattern}, e.g. {ignored[0]}",
              file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.format == "ddnet":
        if len(args.train) != len(args.test):
            raise UserInputError(f"got {len(args.train)} --train and {len(args.test)} --test files; give them in pairs")
        data = convert_ddnet(list(zip(args.train, args.test)), args.layout, args.dtype)
        for number, (train_file, test_file) in enumerate(zip(args.train, args.test), 1):
            print(f"train{number} <- {train_file}, test{number} <- {test_file}")
    elif args.format == "videos":
        data = _convert_videos(args)
    else:
        check_split_arguments(args)
        fraction = 0.3 if args.test_fraction is None else args.test_fraction
        data = convert_folder(args.root, args.layout, args.split_file, fraction, args.seed or 0, args.dtype,
                              tuple(args.img_shape) if args.img_shape else None)
        _note_ignored(find_clip_files(args.root)[2], f"<clip>{'|'.join(CLIP_SUFFIXES)}")
    dataset = write_dataset(data, args.out, args.overwrite)
    print(summary(dataset))
    for warning in split_warnings(dataset):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
