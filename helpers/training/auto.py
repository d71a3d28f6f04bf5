"""A recipe chosen for the user's own data: K-fold cross-validation inside the training split.

`choose_recipe` trains every candidate recipe once per fold of train<split>
(`helpers.data.splits.kfold` through `data.folds` / `data.fold`: stratified by
class, whole groups where ids carry them), each time on the other folds for the
recipe's fixed schedule without a validation carve-out (the last epoch is kept, as
when the winner is trained on the whole split), and predicts the held-out fold.
From these out-of-fold class probabilities it scores each recipe and each late
fusion of up to `max_members` of them (probabilities averaged, as
`helpers.evaluation.scoring.fused_probabilities`) by its accuracy on every fold, and
picks the highest mean (ties within TIE go to the shorter estimated training).  The
test split is never read.  `train_choice` then trains the winner's members on all of
train<split> and stores the choice in each checkpoint and in `choice.json`.

The time budget: candidates run cheapest first; a candidate starts only while
budget is left, and after its first fold it is dropped when its remaining folds and
its own final training (estimated from that fold) would overrun the budget.
"""
from __future__ import annotations

import copy
import csv
import itertools
import time
from pathlib import Path

import numpy as np
import torch

from helpers.config import Config, load_config
from helpers.data.dataset import SkeletonDataset
from helpers.data.splits import config_splits
from helpers.errors import UserInputError
from helpers.evaluation.scoring import clip_probabilities
from helpers.io import atomic_write, atomic_write_json
from helpers.training.checkpoint import load_checkpoint
from helpers.training.loop import train

# the project's recipes that `--recipe auto` chooses among, cheapest first (names under configs/recipes/)
AUTO_CANDIDATES = ("classical_logistic", "classical", "improved", "ddnet", "stgcn")
TIE = 0.005   # mean accuracies closer than this count as equal: the shorter training wins
# settings that change how a fold's last.pt is scored but not its weights (fold runs have no validation)
EVALUATION_ONLY = (("train", "test_checkpoint"), ("augment", "test_clips"), ("augment", "test_flip"))


def fold_config(config: Config, folds: int, fold: int) -> Config:
    """`config` trained on every fold of train<split> but `fold`, without validation clips."""
    run = copy.deepcopy(config)
    run.data.folds, run.data.fold, run.data.val_fraction = folds, fold, 0.0
    return run


def _train_seconds(config: Config, dataset: SkeletonDataset, run_dir: Path) -> float:
    start = time.perf_counter()
    train(config, dataset, run_dir, verbose=False)
    return time.perf_counter() - start


def finished_fold(run_dir: Path, config: Config) -> float | None:  # also a finished final member
    """The training seconds (history.csv) of a finished run of `config`'s settings in `run_dir`, else None.
    The EVALUATION_ONLY settings change no weight of last.pt, so they may differ."""
    if not all((run_dir / name).is_file() for name in ("last.pt", "config.yaml", "history.csv")):
        return None
    saved, wanted = load_config(run_dir / "config.yaml").to_dict(), config.to_dict()
    for settings in (saved, wanted):
        for section, name in EVALUATION_ONLY:
            settings[section].pop(name)
    if saved != wanted:
        return None
    with (run_dir / "history.csv").open() as file:
        return sum(float(row["seconds"]) for row in csv.DictReader(file))


def out_of_fold(name: str, config: Config, dataset: SkeletonDataset, folds: int, run_root: Path,
                deadline: float, verbose: bool = True, reuse: bool = False) -> dict:
    """Out-of-fold probabilities of one recipe: {'probabilities': (N, K) over train<split> in file order,
    'fold_seconds': [...], 'status'}; status 'done', or why it stopped (budget).  Finished, they are
    also written to `run_root/<name>/out_of_fold.npz` (probabilities, labels, fold of each clip, clip
    ids), which `python -m helpers.tools.fuse_folds` fuses other ways.  With `reuse`, a fold whose run
    folder holds a finished run of the same settings is predicted from it, not trained again."""
    train_ids = list(dataset.split[f"train{config.data.split}"])
    position = {clip_id: index for index, clip_id in enumerate(train_ids)}
    probabilities = np.full((len(train_ids), dataset.num_classes), np.nan, dtype=np.float64)
    fold_of = np.full(len(train_ids), -1, dtype=np.int64)
    seconds: list[float] = []
    for fold in range(folds):
        if fold == 0 and time.perf_counter() >= deadline:
            return {"status": "not run: budget spent", "fold_seconds": seconds, "probabilities": None}
        run = fold_config(config, folds, fold)
        run_dir = run_root / name / f"fold{fold}"
        reused = finished_fold(run_dir, run) if reuse else None
        seconds.append(reused if reused is not None else _train_seconds(run, dataset, run_dir))
        held_out = config_splits(dataset, run.data).test
        checkpoint = load_checkpoint(run_dir / "last.pt")
        for section, setting in EVALUATION_ONLY:  # scored as this config says, also when the run is reused
            setattr(getattr(checkpoint.config, section), setting, getattr(getattr(run, section), setting))
        rows = [position[i] for i in held_out]
        probabilities[rows] = clip_probabilities(checkpoint, [dataset.clip(i) for i in held_out], "cpu")
        fold_of[rows] = fold
        if verbose:
            print(f"  {name} fold {fold}: {seconds[-1]:.0f} s" + (" (reused)" if reused is not None else ""),
                  flush=True)
        if fold == 0:
            needed = seconds[0] * (folds - 1) + final_seconds(seconds, folds)
            if time.perf_counter() + needed > deadline:
                return {"status": f"dropped: would need about {needed:.0f} s more than the budget left",
                        "fold_seconds": seconds, "probabilities": None}
    labels = np.array([dataset.clip(i)["label"] for i in train_ids])
    atomic_write(run_root / name / "out_of_fold.npz",
                 lambda file: np.savez(file, probabilities=probabilities, labels=labels, fold=fold_of,
                                       clip_ids=np.array(train_ids)))
    return {"status": "done", "fold_seconds": seconds, "probabilities": probabilities}


def final_seconds(fold_seconds: list[float], folds: int) -> float:
    """Estimated training time on the whole split: a fold's mean time scaled by folds / (folds - 1) clips."""
    return float(np.mean(fold_seconds)) * folds / (folds - 1)


def fold_accuracies(probabilities: np.ndarray, labels: np.ndarray, fold_of: np.ndarray, folds: int) -> list[float]:
    """Accuracy of (N, K) probabilities on each fold's clips."""
    predictions = probabilities.argmax(1)
    return [float((predictions[fold_of == f] == labels[fold_of == f]).mean()) for f in range(folds)]


def score_entries(results: dict[str, dict], labels: np.ndarray, fold_of: np.ndarray, folds: int,
                  max_members: int) -> list[dict]:
    """One row per finished recipe and per late fusion of 2..max_members of them, best first."""
    finished = [name for name, result in results.items() if result["status"] == "done"]
    rows = []
    for size in range(1, min(max_members, len(finished)) + 1):
        for members in itertools.combinations(finished, size):
            fused = np.mean([results[m]["probabilities"] for m in members], axis=0)
            accuracies = fold_accuracies(fused, labels, fold_of, folds)
            rows.append({"entry": "+".join(members), "members": list(members),
                         "mean_accuracy": float(np.mean(accuracies)),
                         "std_accuracy": float(np.std(accuracies, ddof=1)) if folds > 1 else None,
                         "fold_accuracies": accuracies,
                         "estimated_train_seconds": sum(final_seconds(results[m]["fold_seconds"], folds)
                                                        for m in members)})
    rows.sort(key=lambda row: (-row["mean_accuracy"], row["estimated_train_seconds"]))
    return rows


def pick(rows: list[dict]) -> dict:
    """The winner: the shortest estimated training among entries within TIE of the best mean accuracy."""
    if not rows:
        raise UserInputError("--recipe auto: no candidate finished its cross-validation within the budget; "
                             "raise --budget-minutes")
    best = rows[0]["mean_accuracy"]
    return min((row for row in rows if row["mean_accuracy"] > best - TIE),
               key=lambda row: row["estimated_train_seconds"])


def render_table(rows: list[dict], results: dict[str, dict], chosen: dict, folds: int) -> str:
    """The decision as text: every entry's mean ± std fold accuracy and estimated training time."""
    lines = [f"{'entry':<40s} {f'{folds}-fold accuracy':>18s} {'est. train (s)':>15s}"]
    for row in rows:
        mark = "  <- chosen" if row is chosen else ""
        spread = f" ± {100 * row['std_accuracy']:.1f}" if row["std_accuracy"] is not None else ""
        lines.append(f"{row['entry']:<40s} {100 * row['mean_accuracy']:>11.1f}{spread:<7s} "
                     f"{row['estimated_train_seconds']:>15.0f}{mark}")
    for name, result in results.items():
        if result["status"] != "done":
            lines.append(f"{name:<40s} {result['status']}")
    return "\n".join(lines)


def choose_recipe(candidates: dict[str, Config], dataset: SkeletonDataset, run_root: Path, folds: int = 5,
                  budget_seconds: float | None = None, max_members: int = 3, verbose: bool = True,
                  reuse: bool = False) -> dict:
    """Cross-validate every candidate recipe ({name: config}) and their late fusions inside train<split>;
    returns the choice: {'chosen', 'table' (rows), 'candidates', 'folds', 'text', ...}.  `reuse`: see
    `out_of_fold`."""
    first = next(iter(candidates.values()))
    for name, config in candidates.items():
        if config.data != first.data:
            raise UserInputError(f"--recipe auto: candidate {name!r} has other data settings than "
                                 f"{next(iter(candidates))!r}; candidates must share the data")
    start = time.perf_counter()
    deadline = start + budget_seconds if budget_seconds is not None else float("inf")
    train_ids = list(dataset.split[f"train{first.data.split}"])
    fold_of = np.empty(len(train_ids), dtype=np.int64)
    position = {clip_id: index for index, clip_id in enumerate(train_ids)}
    for fold in range(folds):
        for clip_id in config_splits(dataset, fold_config(first, folds, fold).data).test:
            fold_of[position[clip_id]] = fold
    labels = np.array([dataset.clip(i)["label"] for i in train_ids])
    if verbose:
        print(f"--recipe auto: {folds}-fold cross-validation inside train{first.data.split} "
              f"({len(train_ids)} clips; the test split is not read) of {', '.join(candidates)}", flush=True)
    results = {name: out_of_fold(name, config, dataset, folds, run_root, deadline, verbose, reuse)
               for name, config in candidates.items()}
    rows = score_entries(results, labels, fold_of, folds, max_members)
    chosen = pick(rows)
    text = render_table(rows, results, chosen, folds)
    if verbose:
        print(text, flush=True)
    return {"chosen": chosen["entry"], "members": chosen["members"], "mean_accuracy": chosen["mean_accuracy"],
            "std_accuracy": chosen["std_accuracy"], "folds": folds, "table": rows, "text": text,
            "candidates": {name: {"status": result["status"], "fold_seconds": result["fold_seconds"],
                                  "config": config.to_dict()}
                           for (name, config), result in zip(candidates.items(), results.values())},
            "cross_validation_seconds": time.perf_counter() - start, "budget_seconds": budget_seconds,
            "protocol": (f"{folds}-fold cross-validation inside train{first.data.split} (splits.kfold, seed "
                         f"data.seed={first.data.seed}); each fold's model trained on the other folds without "
                         "validation, last epoch; test never read")}


def attach_choice(path: Path, choice: dict) -> None:
    """Store `choice` (plain types) in the checkpoint at `path`, under 'recipe_choice'."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state["recipe_choice"] = {key: value for key, value in choice.items() if key != "candidates"}
    atomic_write(path, lambda file: torch.save(state, file))


def train_choice(choice: dict, candidates: dict[str, Config], dataset: SkeletonDataset, run_dir: Path,
                 verbose: bool = True, reuse: bool = False) -> list[Path]:
    """Train each member of the chosen entry on all of train<split> (no validation, last epoch) into
    `run_dir/<member>/` (with `reuse`, not again where that folder holds a finished run of the same
    settings); writes `run_dir/choice.json`; returns the members' checkpoint paths."""
    paths = []
    for member in choice["members"]:
        config = copy.deepcopy(candidates[member])
        config.data.val_fraction = 0.0
        member_dir = run_dir / member
        if reuse and finished_fold(member_dir, config) is not None:
            if verbose:
                print(f"{member}: reusing the finished run on the whole training split in {member_dir}", flush=True)
        else:
            if verbose:
                print(f"training {member} on the whole training split into {member_dir}", flush=True)
            train(config, dataset, member_dir, verbose=verbose)
        paths.append(member_dir / "last.pt")
    choice = {**choice, "checkpoints": [str(path) for path in paths]}
    for path in paths:
        attach_choice(path, choice)
    atomic_write_json(run_dir / "choice.json", choice)
    return paths
