"""ONNX export of a trained checkpoint, and its check against PyTorch.

The ONNX file takes `input` float32 (N, C, T, V, M) with a dynamic batch axis N and
returns `logits` (N, K).  Its metadata (string key/value pairs, `METADATA_KEYS`)
carries what prediction needs besides the weights: the class names, the layout,
the preprocessing settings, the input streams and the test-time views; and the
whole training config, for traceability.  `helpers.evaluation.onnx_model` reads
it with numpy and onnxruntime only.

Exported with PyTorch's `torch.export`-based exporter (`dynamo=True`, needs
onnxscript); every family in `helpers.models.registry.MODELS` that is a torch
module exports.  Other families (not `nn.Module`s) are refused by name.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from helpers.errors import UserInputError
from helpers.evaluation.onnx_model import FORMAT, OnnxClassifier, softmax
from helpers.io import atomic_write
from helpers.models.registry import MODELS, is_fitted
from helpers.training.checkpoint import LoadedCheckpoint, load_checkpoint
from helpers.transforms.inputs import clip_to_input, evaluation_views, stream_channels

INPUT_NAME, OUTPUT_NAME = "input", "logits"
# every metadata key written (helpers.evaluation.onnx_model reads the ones it needs)
METADATA_KEYS = ("format", "model_name", "class_names", "layout", "num_joints", "input_shape", "preprocess",
                 "streams", "evaluation_views", "config")
TOLERANCE = 1e-4  # max |logit difference| against PyTorch that `check_against_torch` accepts


def exportable_families() -> list[str]:
    """Names in MODELS trained by gradient steps as torch modules; the families fitted once by
    scikit-learn (`is_fitted`) are not exported."""
    return [name for name, cls in MODELS.items()
            if isinstance(cls, type) and issubclass(cls, nn.Module) and not is_fitted(name)]


def load_exportable(path: str | os.PathLike) -> LoadedCheckpoint:
    """The checkpoint at `path`, refused with a one-line error if its model family cannot be exported."""
    path = Path(path)
    if path.is_file():
        try:
            name = torch.load(path, map_location="cpu", weights_only=True).get("model_name")
        except Exception:  # not a torch checkpoint: load_checkpoint below names the problem
            name = None
        if isinstance(name, str) and name not in exportable_families():
            raise UserInputError(f"{path}: model family {name!r} cannot be exported to ONNX (not a model "
                                 f"trained by gradient steps in PyTorch); exportable families: "
                                 f"{', '.join(exportable_families())}")
    return load_checkpoint(path)


def input_shape(checkpoint: LoadedCheckpoint) -> tuple[int, int, int, int]:
    """(C, T, V, M) of one clip as the checkpoint's model reads it."""
    preprocess = checkpoint.preprocess
    return (stream_channels(checkpoint.streams), preprocess.length, checkpoint.layout.num_joints,
            preprocess.max_persons)


def metadata(checkpoint: LoadedCheckpoint) -> dict[str, str]:
    """The ONNX metadata of `checkpoint`: METADATA_KEYS, each a string (JSON for structured values)."""
    augment = checkpoint.config.augment
    values = {
        "format": FORMAT,
        "model_name": checkpoint.model_name,
        "class_names": json.dumps(checkpoint.class_names),
        "layout": checkpoint.layout.name,
        "num_joints": str(checkpoint.layout.num_joints),
        "input_shape": json.dumps({"axes": "N, C, T, V, M", "C_T_V_M": list(input_shape(checkpoint))}),
        "preprocess": json.dumps(asdict(checkpoint.preprocess)),
        "streams": json.dumps(checkpoint.streams),
        "evaluation_views": json.dumps({"test_clips": augment.test_clips, "test_flip": augment.test_flip}),
        "config": json.dumps(checkpoint.config.to_dict()),
    }
    assert tuple(values) == METADATA_KEYS
    return values


@contextlib.contextmanager
def _quiet_exporter():
    """Silence the exporter's progress prints, warnings and log lines (errors still raise)."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def to_onnx_bytes(checkpoint: LoadedCheckpoint, opset: int | None = None) -> bytes:
    """The serialised ONNX model (with metadata) of `checkpoint`'s model, batch axis dynamic."""
    model = checkpoint.model.cpu().eval()
    example = torch.randn((2, *input_shape(checkpoint)), generator=torch.Generator().manual_seed(0))
    batch = torch.export.Dim("batch", min=1)
    try:
        with _quiet_exporter():
            program = torch.onnx.export(model, (example,), dynamo=True, input_names=[INPUT_NAME],
                                        output_names=[OUTPUT_NAME], dynamic_shapes=({0: batch},),
                                        opset_version=opset, verbose=False)
    except Exception as error:  # the exporter raises many types; say which model failed and why
        raise UserInputError(f"{checkpoint.path}: ONNX export of model {checkpoint.model_name!r} failed "
                             f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})") from None
    proto = program.model_proto
    onnx.helper.set_model_props(proto, metadata(checkpoint))
    proto.doc_string = (f"skeleton-actions {checkpoint.model_name}: {INPUT_NAME} float32 (N, C, T, V, M) -> "
                        f"{OUTPUT_NAME} (N, {len(checkpoint.class_names)})")
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


@dataclass
class Check:
    """The ONNX model against PyTorch on the same inputs."""
    clips: int                 # inputs compared
    max_logit_difference: float
    max_probability_difference: float
    batch_sizes: tuple         # batch sizes run through onnxruntime (dynamic axis)

    @property
    def passed(self) -> bool:
        return self.max_logit_difference <= TOLERANCE

    def describe(self) -> str:
        return (f"onnxruntime vs PyTorch on {self.clips} inputs (batches of {', '.join(map(str, self.batch_sizes))}): "
                f"max |logit difference| {self.max_logit_difference:.2e}, max |probability difference| "
                f"{self.max_probability_difference:.2e} (tolerance {TOLERANCE:.0e} on logits)")


def check_against_torch(onnx_path: str | os.PathLike, checkpoint: LoadedCheckpoint, inputs: np.ndarray) -> Check:
    """Run `inputs` (N, C, T, V, M) through the ONNX file and the checkpoint's model; compare.

    The ONNX model runs once with the whole batch and once clip by clip, so the
    dynamic batch axis is exercised.
    """
    inputs = np.ascontiguousarray(inputs, dtype=np.float32)
    onnx_model = OnnxClassifier(onnx_path)
    with torch.no_grad():
        expected = checkpoint.model.cpu().eval()(torch.from_numpy(inputs)).numpy()
    whole = onnx_model.logits(inputs)
    single = np.concatenate([onnx_model.logits(inputs[i:i + 1]) for i in range(len(inputs))])
    logit_difference = max(float(np.abs(whole - expected).max()), float(np.abs(single - expected).max()))
    probability_difference = float(np.abs(softmax(whole) - softmax(expected)).max())
    return Check(len(inputs), logit_difference, probability_difference, (len(inputs), 1))


def clip_inputs(checkpoint: LoadedCheckpoint, clips: list[dict]) -> np.ndarray:
    """Every test view of every clip as the checkpoint's model reads it: (N * views, C, T, V, M)."""
    augment = checkpoint.config.augment
    return np.stack([clip_to_input(clip, checkpoint.layout, checkpoint.preprocess, checkpoint.streams, view=view,
                                   num_views=num_views, mirror=mirror)
                     for view, num_views, mirror in evaluation_views(augment.test_clips, augment.test_flip)
                     for clip in clips])


def random_inputs(checkpoint: LoadedCheckpoint, count: int = 8, seed: int = 0) -> np.ndarray:
    """`count` seeded standard-normal inputs (count, C, T, V, M), for a check without data."""
    return np.random.default_rng(seed).standard_normal((count, *input_shape(checkpoint))).astype(np.float32)


def export_checkpoint(checkpoint: LoadedCheckpoint, out: str | os.PathLike, opset: int | None = None) -> Path:
    """Export `checkpoint` (from `load_exportable`) to ONNX file `out`, written atomically; returns `out`."""
    data = to_onnx_bytes(checkpoint, opset)
    return atomic_write(out, lambda file: file.write(data))
