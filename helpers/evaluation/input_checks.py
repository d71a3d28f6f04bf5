"""Does an input fit a checkpoint?  Warnings for `predict`, and the input's true label when it carries one.

A checkpoint names only its own classes: run on clips of other classes (say a
model of the built-in synthetic motions on a real UCF101 clip) it still prints
one of them, with a probability that looks meaningful.  These checks say so.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from helpers.data.clip_ids import parse_clip_id
from helpers.data.source import is_default_dataset
from helpers.errors import printable
from helpers.paths import resolve_data_path

if TYPE_CHECKING:  # torch stays out of predict --onnx
    from helpers.training.checkpoint import LoadedCheckpoint

def trained_on(checkpoint: LoadedCheckpoint) -> str:
    """What the checkpoint was trained on, in words (its recorded dataset file, else its config's)."""
    path = checkpoint.state.get("data_source") or checkpoint.config.data.path
    if path is None or is_default_dataset(path):
        return "the built-in SYNTHETIC dataset"
    return str(path)


def _short(names: list[str], shown: int = 4) -> str:
    return ", ".join(names[:shown]) + (f", ... ({len(names)} classes)" if len(names) > shown else "")


def input_warnings(checkpoint: LoadedCheckpoint, source: str | Path, class_names: list[str] | None = None,
                   synthetic: bool = False) -> list[str]:
    """Reasons to distrust predictions of `checkpoint` on the input `source`.

    `class_names`: the input's classes, when it has them (a dataset file, a video
    folder); `synthetic`: the input is the built-in synthetic dataset.  Input with
    exactly the checkpoint's classes is taken to be of the same kind.
    """
    warnings = []
    ours = checkpoint.class_names
    same_classes = class_names is not None and list(class_names) == list(ours)
    if trained_on(checkpoint).startswith("the built-in") and not synthetic and not same_classes:
        warnings.append(f"{checkpoint.path} was trained on the built-in SYNTHETIC dataset (classes "
                        f"{_short(ours)}): its predictions on other data name synthetic motions and mean nothing")
    if class_names is not None and not set(ours) <= set(class_names):
        warnings.append(f"{source}: the input's classes ({_short(list(class_names))}) are not those the "
                        f"checkpoint knows ({_short(ours)}); it can only name one of its own")
    return warnings


def training_clip_warning(checkpoint: LoadedCheckpoint, source: str | Path, split: dict, frame_dir: str) -> str | None:
    """A warning when the clip belongs to the training split of the very file the checkpoint was trained on."""
    path = checkpoint.state.get("data_source") or checkpoint.config.data.path
    if path is None or Path(resolve_data_path(path)).resolve() != Path(source).resolve():
        return None
    train = f"train{checkpoint.config.data.split}"
    if frame_dir in split.get(train, []):
        return (f"clip {printable(frame_dir)} is in {train} of {source}, on which the checkpoint was trained (a training or "
                "validation clip): its prediction says little about new clips")
    return None


def true_label(clip: dict, class_names: list[str] | None = None) -> str | None:
    """The clip's class name: from the input's class names, else from a UCF101-style id; None if unknown."""
    label = clip.get("label")
    if class_names is not None and label is not None and 0 <= int(label) < len(class_names):
        return class_names[int(label)]
    parsed = parse_clip_id(str(clip.get("frame_dir", "")))
    return parsed.class_name if parsed else None


def video_label(video: str | Path, checkpoint: LoadedCheckpoint) -> str | None:
    """The class of a video filed as ROOT/<class>/<video> when <class> is one of the checkpoint's classes."""
    folder = Path(str(video)).parent.name
    return folder if folder in checkpoint.class_names else None


def label_verdict(label: str | None, predicted: str, checkpoint: LoadedCheckpoint) -> str | None:
    """'true label: X (predicted correctly | predicted Y | not one of the checkpoint's classes)', or None."""
    if label is None:
        return None
    if label not in checkpoint.class_names:
        return f"true label: {label} (not one of the checkpoint's classes)"
    return f"true label: {label} ({'predicted correctly' if label == predicted else f'predicted {predicted}'})"
