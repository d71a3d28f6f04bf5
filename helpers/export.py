"""Command: export a checkpoint to ONNX and check it against PyTorch.

    python -m helpers.export --ckpt runs/stgcn/best.pt --out model.onnx [--check-input FILE [--clip FRAME_DIR]]

The ONNX file has a dynamic batch axis and carries the class names, layout,
preprocessing, streams and test views as metadata, so that
`python -m helpers.predict --onnx model.onnx --input FILE` needs no checkpoint and
no torch.  After writing it, the command runs the same inputs through onnxruntime
and PyTorch and prints the largest difference: on every test view of the clips in
FILE (any input `predict` reads), else on seeded random inputs.  A difference above
the tolerance removes the file and fails.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.cli import run_command
from helpers.data.dataset import validate_dataset
from helpers.data.safe_pickle import safe_load
from helpers.errors import UserInputError
from helpers.evaluation import onnx_export
from helpers.predict import read_clips


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", required=True, help="checkpoint, e.g. runs/stgcn/best.pt")
    parser.add_argument("--out", required=True, type=Path, help="ONNX file to write, e.g. model.onnx")
    parser.add_argument("--check-input", help="clips to compare on (a pickle as for predict --input; "
                                              "default: 8 seeded random inputs)")
    parser.add_argument("--clip", help="with --check-input: only the clip with this frame_dir")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default: the exporter's)")
    return parser


def read_check_clips(path: str, clip_id: str | None) -> list[dict]:
    """The clips to compare on: every clip of a dataset pickle (or the one named), else what predict reads."""
    data = safe_load(path)
    if isinstance(data, dict) and "annotations" in data and clip_id is None:
        return validate_dataset(data, path).annotations
    return read_clips(path, clip_id)[0]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.clip and not args.check_input:
        raise UserInputError("--clip needs --check-input FILE")
    checkpoint = onnx_export.load_exportable(args.ckpt)
    if args.check_input:
        clips = read_check_clips(args.check_input, args.clip)
        for clip in clips:
            checkpoint.check_fits(f"{args.check_input}: clip {clip['frame_dir']!r}", clip["keypoint"].shape[2])
        inputs, what = onnx_export.clip_inputs(checkpoint, clips), f"{len(clips)} clips of {args.check_input}"
    else:
        inputs, what = onnx_export.random_inputs(checkpoint), "seeded random inputs"
    out = onnx_export.export_checkpoint(checkpoint, args.out, args.opset)
    check = onnx_export.check_against_torch(out, checkpoint, inputs)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.2f} MiB): {checkpoint.model_name}, "
          f"{len(checkpoint.class_names)} classes, input (N, {', '.join(map(str, onnx_export.input_shape(checkpoint)))})")
    print(f"checked on {what}: {check.describe()}")
    if not check.passed:
        out.unlink(missing_ok=True)
        raise UserInputError(f"{out}: removed, the ONNX model differs from PyTorch by "
                             f"{check.max_logit_difference:.2e} (> {onnx_export.TOLERANCE:.0e})")
    return 0


if __name__ == "__main__":
    sys.exit(run_command(main))
