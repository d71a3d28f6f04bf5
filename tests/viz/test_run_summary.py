import math

from torch import nn

from helpers.data.layouts import COCO17
from helpers.models.lstm import BaselineLSTM
from helpers.viz.run_summary import best_epoch, epoch_summary, model_summary, runs_summary


def history(f1s):
    return [{"epoch": i + 1, "lr": 1e-3, "train_loss": 2.0 - i / 10, "train_acc": 0.1 * i, "train_f1": 0.1 * i,
             "val_loss": 2.1 - i / 10, "val_acc": f1, "val_f1": f1, "seconds": 0.5, "data_wait_share": 0.1}
            for i, f1 in enumerate(f1s)]


def test_best_epoch_is_the_first_highest_validation_macro_f1():
    assert best_epoch(history([0.1, 0.5, 0.5, 0.2])) == 2
    assert best_epoch(history([math.nan, math.nan])) is None


def test_epoch_summary_keeps_first_last_evenly_spaced_and_the_best():
    f1s = [0.1] * 20
    f1s[12] = 0.9
    table = epoch_summary(history(f1s), rows=5)
    assert list(table.index) == [1, 5, 10, 13, 15, 20]
    assert table.loc[13, "best"] == "best" and (table["best"] == "best").sum() == 1
    assert list(table.columns) == ["train_loss", "train_acc", "val_loss", "val_acc", "val_f1", "best"]
    assert list(epoch_summary(history([0.3]), rows=5).index) == [1]


def test_model_summary_lists_parts_with_parameter_counts():
    model = BaselineLSTM(num_classes=3, layout=COCO17, hidden_size=8, num_layers=1)
    blocks = nn.Module()
    blocks.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    table = model_summary({"baseline": model, "tiny": nn.Sequential(nn.Linear(2, 3), nn.ReLU()), "blocks": blocks})
    assert table.loc["baseline", "class"] == "BaselineLSTM"
    lstm = sum(p.numel() for p in model.lstm.parameters())
    assert table.loc["baseline", "parts"] == f"lstm: LSTM ({lstm:,}) · head: Linear (27)"
    assert table.loc["baseline", "parameters"] == f"{lstm + 27:,}"
    assert table.loc["tiny", "parts"] == "0: Linear (9) · 1: ReLU (0)"
    assert table.loc["blocks", "parts"] == "layers: 2 x Linear (12)"


def test_runs_summary_one_row_per_run():
    table = runs_summary({"a": history([0.2, 0.8, 0.4]), "b": history([0.5])})
    assert table.loc["a"].to_dict() == {"epochs": 3, "best epoch": 2, "best val accuracy": 0.8,
                                        "best val macro-F1": 0.8, "last val macro-F1": 0.4, "train seconds": 1.5}
    assert table.loc["b", "best epoch"] == 1
