"""Prediction from an exported ONNX file with numpy and onnxruntime only (no torch).

The file's metadata (written by `helpers.evaluation.onnx_export`) says how to turn an
annotation dict into the model's input: layout, preprocessing, streams and the
test-time views, whose class probabilities are averaged as `helpers.evaluation.scoring`
does for a checkpoint.  Clips go through the same numpy code as in training
(`helpers.transforms.inputs.clip_to_input`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime

from helpers.config import PreprocessConfig, config_from_dict
from helpers.data.layouts import Layout, check_data_fits, get_layout
from helpers.errors import UserInputError
from helpers.transforms.inputs import clip_to_input, evaluation_views

FORMAT = "skeleton-actions-onnx-1"  # the `format` metadata value this module reads
REQUIRED = ("format", "class_names", "layout", "preprocess", "streams", "evaluation_views")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K) logits, computed stably in float64, returned as float32."""
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)


class OnnxClassifier:
    """An exported model plus the settings to feed it; the ONNX counterpart of a loaded checkpoint.

    logits: inputs (N, C, T, V, M) float32 -> (N, K); probabilities: clips -> (N, K).
    """

    def __init__(self, path: str | os.PathLike, threads: int = 0):
        self.path = Path(path)
        if not self.path.is_file():
            raise UserInputError(f"{self.path}: ONNX file not found")
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        try:
            self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own types for unreadable models
            raise UserInputError(f"{self.path}: not a loadable ONNX model ({type(error).__name__}: "
                                 f"{str(error).splitlines()[0] if str(error) else ''})") from None
        meta = self.session.get_modelmeta().custom_metadata_map
        missing = [key for key in REQUIRED if key not in meta]
        if missing or meta.get("format") != FORMAT:
            what = f"missing metadata {', '.join(missing)}" if missing else f"metadata format {meta['format']!r}"
            raise UserInputError(f"{self.path}: not an ONNX file exported by python -m helpers.export ({what})")
        where = f"{self.path} (metadata)"
        try:
            self.class_names: list[str] = list(json.loads(meta["class_names"]))
            preprocess = json.loads(meta["preprocess"])
            self.streams: list[str] = list(json.loads(meta["streams"]))
            views = json.loads(meta["evaluation_views"])
        except (json.JSONDecodeError, TypeError) as error:
            raise UserInputError(f"{where}: unreadable value ({error})") from None
        self.preprocess: PreprocessConfig = config_from_dict({"preprocess": preprocess}, where).preprocess
        try:
            self.layout: Layout = get_layout(meta["layout"])
        except ValueError as error:
            raise UserInputError(f"{where}: {error}") from None
        self.model_name = meta.get("model_name", "?")
        self.views = evaluation_views(int(views["test_clips"]), bool(views["test_flip"]))
        self.input_name = self.session.get_inputs()[0].name

    def check_fits(self, source: str, num_joints: int, layout_name: str | None = None) -> None:
        """Refuse data whose skeleton (joint count, layout if known) differs from the training data's."""
        check_data_fits(self.layout, source, num_joints, layout_name, f"ONNX model {self.path}")

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        """Logits (N, K) of inputs (N, C, T, V, M)."""
        return self.session.run(None, {self.input_name: np.ascontiguousarray(inputs, dtype=np.float32)})[0]

    def view_inputs(self, clips: list[dict], view: int, num_views: int, mirror: bool) -> np.ndarray:
        """Inputs (N, C, T, V, M) of one test view of `clips`."""
        return np.stack([clip_to_input(clip, self.layout, self.preprocess, self.streams, view=view,
                                       num_views=num_views, mirror=mirror) for clip in clips])

    def probabilities(self, clips: list[dict], batch_size: int = 256) -> np.ndarray:
        """Class probabilities (N, K), averaged over the test views of each clip."""
        total = np.zeros((len(clips), len(self.class_names)), dtype=np.float64)
        for start in range(0, len(clips), batch_size):
            batch = clips[start:start + batch_size]
            for view in self.views:
                total[start:start + len(batch)] += softmax(self.logits(self.view_inputs(batch, *view)))
        return (total / len(self.views)).astype(np.float32)
