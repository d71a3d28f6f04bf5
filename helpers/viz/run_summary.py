"""Compact tables of models and training runs for the notebooks (the full logs stay in the run folders)."""
from __future__ import annotations

import pandas as pd
from torch import nn

from helpers.models.registry import count_parameters


def best_epoch(history: list[dict]) -> int | None:
    """The epoch training keeps as best.pt: the first of highest validation macro-F1 (None without validation)."""
    scored = [row for row in history if row["val_f1"] == row["val_f1"]]   # NaN without validation clips
    return max(scored, key=lambda row: row["val_f1"])["epoch"] if scored else None


def _parts(model: nn.Module) -> str:
    """The model's top-level parts with their parameter counts, e.g. 'lstm: LSTM (216,064) · head: Linear (1,290)';
    a list of blocks of one kind shows as '6 x STGCNBlock'."""
    parts = []
    for name, child in model.named_children():
        kind = type(child).__name__
        kinds = {type(grandchild).__name__ for grandchild in child} if isinstance(child, nn.ModuleList) else set()
        if len(kinds) == 1:
            kind = f"{len(child)} x {kinds.pop()}"
        parts.append(f"{name}: {kind} ({count_parameters(child):,})")
    return " · ".join(parts)


def model_summary(models: dict[str, nn.Module]) -> pd.DataFrame:
    """One row per model: class, trainable parameters and top-level parts (name: kind (parameters))."""
    rows = [{"model": name, "class": type(model).__name__, "parameters": f"{count_parameters(model):,}",
             "parts": _parts(model)} for name, model in models.items()]
    return pd.DataFrame(rows).set_index("model")


def epoch_summary(history: list[dict], rows: int = 6) -> pd.DataFrame:
    """About `rows` evenly spaced epochs of a history plus its best one (marked), losses and scores rounded.

    The best epoch is the one training keeps (first of highest validation macro-F1).
    """
    total = len(history)
    step = max(1, round(total / max(1, rows - 1)))
    epochs = sorted({1, total, *range(step, total, step)} | ({best_epoch(history)} - {None}))
    best = best_epoch(history)
    table = pd.DataFrame([history[epoch - 1] for epoch in epochs])
    table["best"] = ["best" if epoch == best else "" for epoch in table["epoch"]]
    columns = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "best"]
    return table[columns].set_index("epoch").round(3)


def runs_summary(histories: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per run: epochs, best epoch and its validation scores, last epoch's, and training seconds."""
    rows = []
    for name, history in histories.items():
        best = best_epoch(history) or len(history)
        rows.append({"run": name, "epochs": len(history), "best epoch": best,
                     "best val accuracy": history[best - 1]["val_acc"], "best val macro-F1": history[best - 1]["val_f1"],
                     "last val macro-F1": history[-1]["val_f1"],
                     "train seconds": sum(row["seconds"] for row in history)})
    return pd.DataFrame(rows).set_index("run").round(3)
