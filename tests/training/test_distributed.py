"""torchrun with 2 CPU processes (gloo) on a tiny config: the ranks agree, rank 0 alone prints and writes,
the checkpoint evaluates to what rank 0 printed, and an interrupted run resumes under torchrun."""
import json
import os
import re
import subprocess
import sys

import pytest
import torch

from helpers.data.dataset import load_dataset, save_dataset
from helpers.evaluation.scoring import clip_probabilities, evaluate, split_clips
from helpers.paths import PROJECT_ROOT
from helpers.training.checkpoint import load_checkpoint
from helpers.training.distributed import World
from helpers.training.run_folder import finished_config, load_val_probabilities
from tests.conftest import make_tiny_dataset

ENTRY = PROJECT_ROOT / "tests" / "training" / "torchrun_entry.py"
TIMING = ("seconds", "data_wait_share")
# ST-GCN has BatchNorm (running statistics each rank updates on its own batches) and dropout;
# 30 training clips give each rank 15: one batch of 8 and a dropped remainder, so 2 steps of 16 per epoch.
RECIPE = """data: {{path: {path}}}
preprocess: {{length: 16}}
model: {{name: stgcn, extra: {{stages: [[8, 1]]}}}}
augment: {{enabled: true, rotate_degrees: 15.0}}
train: {{epochs: 3, batch_size: 8, num_threads: 1, lr: 0.01}}
"""


def torchrun(tmp, name, *args, stop=0):
    """Run the train command under torchrun with 2 processes; returns (exit code, stdout, rank histories)."""
    histories = tmp / f"{name}_histories"
    histories.mkdir()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(PROJECT_ROOT), "HISTORY_DIR": str(histories),
           "STOP_BEFORE_EPOCH": str(stop), "SKELETON_ACTIONS_CACHE": str(tmp / "cache")}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(ENTRY),
               "--config", str(tmp / "tiny.yaml"), *args]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    ranks = [json.loads((histories / f"rank{r}.json").read_text()) if (histories / f"rank{r}.json").exists() else None
             for r in (0, 1)]
    return done.returncode, done.stdout + done.stderr, ranks


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """An uninterrupted run, a run killed before epoch 3, and that run resumed: all 2 processes."""
    tmp = tmp_path_factory.mktemp("torchrun")
    path = save_dataset(make_tiny_dataset(groups=8), tmp / "tiny.pkl")
    (tmp / "tiny.yaml").write_text(RECIPE.format(path=path))
    full = torchrun(tmp, "full", "--out", str(tmp / "full"))
    cut = torchrun(tmp, "cut", "--out", str(tmp / "cut"), stop=3)
    cut_state = torch.load(tmp / "cut" / "last.pt", weights_only=True) if (tmp / "cut" / "last.pt").exists() else None
    cut_finished = finished_config(tmp / "cut") is not None
    resumed = torchrun(tmp, "resumed", "--resume", str(tmp / "cut"))
    return {"tmp": tmp, "dataset": path, "full": full, "cut": cut, "cut_state": cut_state,
            "cut_finished": cut_finished, "resumed": resumed}


def without_timing(history):
    return [{k: v for k, v in row.items() if k not in TIMING} for row in history]


def test_two_processes_agree_and_rank_0_alone_prints_and_writes(runs):
    code, output, (rank0, rank1) = runs["full"]
    assert code == 0, output
    assert without_timing(rank0) == without_timing(rank1)                   # every metric, every epoch
    assert len(re.findall(r"^\[Ep 001\]", output, re.M)) == 1                 # printed once, by rank 0
    assert "2 processes (global batch 2 x 8 = 16)" in output
    folder = runs["tmp"] / "full"
    assert sorted(p.name for p in folder.iterdir()) == ["best.pt", "config.yaml", "history.csv", "last.pt",
                                                        "run.json", "splits.json", "val_probabilities.npz"]
    assert json.loads((folder / "run.json").read_text())["processes"] == 2
    assert torch.load(folder / "last.pt", weights_only=True)["resume"]["world_size"] == 2


def test_the_checkpoint_loads_without_ddp_and_evaluates_to_what_rank_0_printed(runs):
    code, output, (rank0, _) = runs["full"]
    assert code == 0, output
    folder = runs["tmp"] / "full"
    best = load_checkpoint(folder / "best.pt")             # a plain model: no 'module.' prefix from DDP
    printed = re.search(rf"^\[Ep {best.state['epoch']:03d}\].*\| val: loss=\S+ acc=(\S+) f1=(\S+)$", output, re.M)
    metrics = evaluate(best, load_dataset(runs["dataset"]), "val", verbose=False)
    assert f"{metrics['accuracy']:.4f}" == printed.group(1) and f"{metrics['macro_f1']:.4f}" == printed.group(2)
    probabilities, labels = load_val_probabilities(folder)        # every val clip, gathered from both ranks
    assert probabilities.shape == (3, metrics["num_clips"], 3) and labels.tolist() == metrics["labels"]
    # rank 1's share was scored with rank 0's BatchNorm statistics: the weights and buffers best.pt holds
    val_clips = split_clips(load_dataset(runs["dataset"]), best, "val")
    assert probabilities[best.state["epoch"] - 1] == pytest.approx(clip_probabilities(best, val_clips), abs=1e-5)


def test_an_interrupted_torchrun_run_resumes_under_torchrun_to_the_same_end(runs):
    code, output, _ = runs["cut"]
    assert code != 0 and "stopped before epoch 3" in output
    assert runs["cut_state"]["epoch"] == 2 and not runs["cut_finished"]
    code, output, (rank0, rank1) = runs["resumed"]
    assert code == 0, output
    assert "Resuming" in output and "after epoch 2 of 3" in output
    full = runs["full"][2][0]
    assert without_timing(rank0) == without_timing(full) == without_timing(rank1)
    for name in ("best.pt", "last.pt"):
        expected = torch.load(runs["tmp"] / "full" / name, weights_only=True)["state_dict"]
        actual = torch.load(runs["tmp"] / "cut" / name, weights_only=True)["state_dict"]
        assert all(torch.equal(expected[key], actual[key]) for key in expected), name
    assert finished_config(runs["tmp"] / "cut") is not None


def test_resuming_with_another_number_of_processes_is_refused(runs, capsys):
    from helpers import train as command
    from helpers.cli import run_command

    code, output, _ = runs["full"]
    assert code == 0, output
    folder = runs["tmp"] / "full"
    (folder / "run.json").rename(folder / "run.json.bak")                    # as if it had stopped at the end
    try:
        argv = ["--config", str(runs["tmp"] / "tiny.yaml"), "--resume", str(folder)]
        assert run_command(command.main, argv) == 2
    finally:
        (folder / "run.json.bak").rename(folder / "run.json")
    assert "trained by 2 process(es) and this resume has 1" in capsys.readouterr().err


def test_one_process_is_a_world_of_one():
    world = World()
    values = torch.arange(6.0).reshape(3, 2)
    assert not world.distributed and world.is_main and world.shard_indices(5) == [0, 1, 2, 3, 4]
    assert world.gather_shards(values, 3) is values and world.sum([1.0, 2.0]) == [1.0, 2.0]
    assert World(rank=1, size=3).shard_indices(7) == [1, 4]
