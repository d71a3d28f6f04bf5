"""Late fusion of separately trained models: evaluation, the command and the benchmark entry."""
import json

import numpy as np
import pytest

from helpers.tools import benchmark
from helpers.training.checkpoint import load_checkpoint
from helpers.cli import run_command
from helpers.config import Config
from helpers.data.dataset import save_dataset, validate_dataset
from helpers.errors import UserInputError
from helpers.evaluate import main as evaluate_main
from helpers.evaluation.scoring import clip_probabilities, evaluate, fused_probabilities, split_clips
from helpers.training.loop import train
from tests.conftest import make_tiny_dataset


def stream_config(streams, epochs=2) -> Config:
    config = Config()
    config.model.name, config.model.streams = "stgcn", streams
    config.model.extra = {"stages": [[8, 1], [8, 2]]}
    config.preprocess.length = 16
    config.train.epochs, config.train.batch_size, config.train.num_threads = epochs, 8, 1
    return config


@pytest.fixture(scope="module")
def two_streams(tmp_path_factory):
    root = tmp_path_factory.mktemp("fusion")
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    train(stream_config(["joint"]), dataset, root / "joint", verbose=False)
    train(stream_config(["bone", "bone_motion"]), dataset, root / "bone", verbose=False)
    return dataset, root


def test_fused_scores_are_the_weighted_mean_of_each_models_own_streams(two_streams):
    dataset, root = two_streams
    joint, bone = load_checkpoint(root / "joint" / "best.pt"), load_checkpoint(root / "bone" / "best.pt")
    clips = split_clips(dataset, joint, "test")
    p_joint, p_bone = clip_probabilities(joint, clips), clip_probabilities(bone, clips)  # (N, K) each
    assert not np.allclose(p_joint, p_bone)
    np.testing.assert_allclose(fused_probabilities([joint, bone], clips), (p_joint + p_bone) / 2, rtol=1e-6)
    np.testing.assert_allclose(fused_probabilities([joint, bone], clips, [3, 1]), 0.75 * p_joint + 0.25 * p_bone,
                               rtol=1e-6)
    metrics = evaluate([joint, bone], dataset, "test", verbose=False)
    expected = ((p_joint + p_bone).argmax(1) == np.array([c["label"] for c in clips])).mean()
    assert metrics["accuracy"] == pytest.approx(expected) and metrics["model"] == "stgcn+stgcn"
    with pytest.raises(UserInputError, match="one non-negative weight per checkpoint"):
        fused_probabilities([joint, bone], clips, [1.0])


def test_a_graph_model_and_a_ddnet_fuse_each_with_its_own_input(two_streams, tmp_path):
    dataset, root = two_streams
    config = stream_config(["joint"], epochs=1)
    config.model.name, config.model.extra, config.preprocess.length = "ddnet", {"filters": 4}, 12
    train(config, dataset, tmp_path / "ddnet", verbose=False)
    graph, ddnet = load_checkpoint(root / "bone" / "best.pt"), load_checkpoint(tmp_path / "ddnet" / "best.pt")
    clips = split_clips(dataset, graph, "test")
    p_graph, p_ddnet = clip_probabilities(graph, clips), clip_probabilities(ddnet, clips)   # 4 and 2 channels
    np.testing.assert_allclose(fused_probabilities([graph, ddnet], clips), (p_graph + p_ddnet) / 2, rtol=1e-6)
    assert evaluate([graph, ddnet], dataset, "test", verbose=False)["model"] == "stgcn+ddnet"


def test_fusion_refuses_checkpoints_trained_on_other_clips(two_streams, tmp_path):
    dataset, root = two_streams
    config = stream_config(["joint"], epochs=1)
    config.data.val_fraction = 0.3
    train(config, dataset, tmp_path / "other", verbose=False)
    members = [load_checkpoint(root / "joint" / "best.pt"), load_checkpoint(tmp_path / "other" / "best.pt")]
    with pytest.raises(UserInputError, match="data settings .* differ"):
        evaluate(members, dataset, "test", verbose=False)


def test_evaluate_command_fuses_repeated_checkpoints(two_streams, tmp_path, capsys):
    dataset, root = two_streams
    path = save_dataset(make_tiny_dataset(), tmp_path / "tiny.pkl")
    config = tmp_path / "data.yaml"
    config.write_text(f"data: {{path: {path}}}\n")
    ckpts = ["--ckpt", str(root / "joint" / "best.pt"), "--ckpt", str(root / "bone" / "best.pt")]
    assert run_command(evaluate_main, ["--config", str(config), *ckpts]) == 2
    assert "--out" in capsys.readouterr().err
    assert run_command(evaluate_main, ["--config", str(config), *ckpts, "--weights", "1,2",
                                       "--out", str(tmp_path / "fused")]) == 0
    metrics = json.loads((tmp_path / "fused" / "metrics_test.json").read_text())
    assert metrics["fusion_weights"] == [1.0, 2.0] and len(metrics["checkpoint"]) == 2
    assert (tmp_path / "fused" / "confusion_test.png").is_file()


def test_benchmark_trains_named_recipes_and_fuses_them_per_seed(tmp_path, monkeypatch):
    path = save_dataset(make_tiny_dataset(groups=8), tmp_path / "tiny.pkl")
    recipes = {}
    for name, streams in (("joints", "[joint]"), ("bones", "[bone]")):
        recipes[name] = tmp_path / f"{name}.yaml"
        recipes[name].write_text("preprocess: {length: 16}\ntrain: {epochs: 1, batch_size: 8}\n"
                                 f"model: {{name: stgcn, streams: {streams}, extra: {{stages: [[8, 1]]}}}}\n")
    calls = []
    real_evaluate = benchmark.evaluate

    def counting_evaluate(checkpoint, dataset, split="test", out_dir=None, verbose=True):
        calls.append((len(checkpoint) if isinstance(checkpoint, list) else 1, split))
        return real_evaluate(checkpoint, dataset, split, out_dir, verbose)

    monkeypatch.setattr(benchmark, "evaluate", counting_evaluate)
    argv = ["--data", str(path), "--models", "joints,bones", "--seeds", "0,1", "--fuse", "js=joints+bones",
            "--recipe", f"joints={recipes['joints']}", "--recipe", f"bones={recipes['bones']}", "--name", "f",
            "--out", str(tmp_path / "bench"), "--timing-seconds", "0.05", "--set", "train.num_threads=1"]
    assert run_command(benchmark.main, argv) == 0
    report = json.loads((tmp_path / "bench" / "f.json").read_text())
    assert report["models"]["joints"]["config"]["model"]["name"] == "stgcn"
    assert report["models"]["bones"]["config"]["model"]["streams"] == ["bone"]
    fused = report["models"]["js"]
    assert fused["fusion_of"] == ["joints", "bones"] and [r["seed"] for r in fused["runs"]] == [0, 1]
    for index, run in enumerate(fused["runs"]):
        members = [report["models"][m]["runs"][index] for m in ("joints", "bones")]
        assert run["train_seconds"] == pytest.approx(sum(m["train_seconds"] for m in members))
        assert run["parameters"] == sum(m["parameters"] for m in members)
    # test once per single run and once per fused seed; the fused val score is computed on val
    assert calls.count((1, "test")) == 4 and calls.count((2, "test")) == 2 and calls.count((2, "val")) == 2
    assert "Late fusion (mean of class probabilities) of joints + bones" in (tmp_path / "bench" / "f.md").read_text()


def test_fusion_entries_are_checked():
    with pytest.raises(UserInputError, match="expected NAME=A\\+B"):
        benchmark.parse_fusions(["js=joints"], ["joints"])
    with pytest.raises(UserInputError, match="'bones' is not in --models"):
        benchmark.parse_fusions(["js=joints+bones"], ["joints"])
    with pytest.raises(UserInputError, match="already taken"):
        benchmark.parse_fusions(["joints=joints+bones"], ["joints", "bones"])
    with pytest.raises(UserInputError, match="own recipe"):
        benchmark.model_configs(["joints"], None, [])
    assert benchmark.parse_fusions(["js=joints+bones"], ["joints", "bones"]) == {"js": ["joints", "bones"]}


def test_refit_tests_only_the_model_retrained_on_all_of_train(tmp_path, monkeypatch):
    data = make_tiny_dataset(groups=8)
    path = save_dataset(data, tmp_path / "tiny.pkl")
    recipe = tmp_path / "r.yaml"
    recipe.write_text("preprocess: {length: 16}\ntrain: {epochs: 2, batch_size: 8}\n"
                      "model: {name: stgcn, streams: [joint], extra: {stages: [[8, 1]]}}\n")
    tested = []
    real_evaluate = benchmark.evaluate

    def recording_evaluate(checkpoint, dataset, split="test", out_dir=None, verbose=True):
        members = checkpoint if isinstance(checkpoint, list) else [checkpoint]
        if split == "test":
            tested.append([str(member.path) for member in members])
        return real_evaluate(checkpoint, dataset, split, out_dir, verbose)

    monkeypatch.setattr(benchmark, "evaluate", recording_evaluate)
    out = tmp_path / "bench"
    argv = ["--data", str(path), "--models", "a,b", "--seeds", "0", "--recipe", f"a={recipe}", "--recipe",
            f"b={recipe}", "--fuse", "ab=a+b", "--refit", "--name", "r", "--out", str(out),
            "--timing-seconds", "0.05", "--set", "train.num_threads=1"]
    assert run_command(benchmark.main, argv) == 0
    refit_a, refit_b = out / "r" / "a" / "seed0" / "refit", out / "r" / "b" / "seed0" / "refit"
    assert tested == [[str(refit_a / "best.pt")], [str(refit_b / "best.pt")],
                      [str(refit_a / "best.pt"), str(refit_b / "best.pt")]]
    splits = json.loads((refit_a / "splits.json").read_text())
    assert splits["val"] == [] and sorted(splits["train"]) == sorted(data["split"]["train1"])
    assert load_checkpoint(refit_a / "best.pt").state["epoch"] == 2          # the last epoch
    selection = json.loads((out / "r" / "a" / "seed0" / "splits.json").read_text())
    assert selection["val"] and not set(selection["val"]) & set(selection["train"])
    report = json.loads((out / "r.json").read_text())
    run = report["models"]["a"]["runs"][0]
    assert report["refit"] and run["final_dir"] == str(refit_a) and run["selection_seconds"] > 0
    assert "trained again on all of train1" in (out / "r.md").read_text()


def test_flip_testing_averages_each_view_with_its_mirror_image(two_streams):
    from helpers.transforms.augment import flip
    from helpers.transforms.clips import clip_to_input
    from helpers.training.inference import make_views

    dataset, root = two_streams
    checkpoint = load_checkpoint(root / "joint" / "best.pt")
    clips = split_clips(dataset, checkpoint, "test")
    views = make_views(clips, checkpoint.layout, checkpoint.preprocess, ["joint"], 2, flip=True)
    assert len(views) == 4
    plain = clip_to_input(clips[0], checkpoint.layout, checkpoint.preprocess, ["joint"], view=0, num_views=2)
    mirrored = flip(plain.transpose(3, 1, 2, 0), checkpoint.layout).transpose(3, 1, 2, 0)
    np.testing.assert_allclose(views[1].inputs[0].numpy(), np.ascontiguousarray(mirrored), atol=1e-6)
    without = clip_probabilities(checkpoint, clips)
    checkpoint.config.augment.test_flip = True
    with_flip = clip_probabilities(checkpoint, clips)
    assert with_flip.shape == without.shape and not np.allclose(with_flip, without)
    np.testing.assert_allclose(with_flip.sum(1), 1.0, rtol=1e-5)


def test_class_names_with_math_text_are_drawn_literally(tmp_path):
    """A class name `$\\undefinedmacro$` once crashed evaluate after metrics_test.json was written."""
    from tests.hostile import tiny_checkpoint

    names = ["$\\undefinedmacro$", "a $ b", "c"]
    data = make_tiny_dataset(groups=4, clips_per_group=1)
    data["class_names"] = names
    checkpoint = load_checkpoint(tiny_checkpoint(tmp_path / "best.pt", class_names=names))
    metrics = evaluate(checkpoint, validate_dataset(data, "mem"), "test", out_dir=tmp_path, verbose=False)
    assert metrics["class_names"] == names
    assert (tmp_path / "metrics_test.json").is_file() and (tmp_path / "confusion_test.png").stat().st_size > 1000


def test_a_failing_figure_writes_no_metrics(tmp_path, monkeypatch):
    from helpers.viz import plotting
    from tests.hostile import tiny_checkpoint

    data = make_tiny_dataset(groups=4, clips_per_group=1)
    data["class_names"] = ["a", "b", "c"]
    checkpoint = load_checkpoint(tiny_checkpoint(tmp_path / "best.pt"))

    def broken(*args, **kwargs):
        raise RuntimeError("drawing failed")

    monkeypatch.setattr(plotting, "plot_confusion_matrix", broken)
    with pytest.raises(RuntimeError):
        evaluate(checkpoint, validate_dataset(data, "mem"), "test", out_dir=tmp_path / "out", verbose=False)
    assert not (tmp_path / "out").exists()
