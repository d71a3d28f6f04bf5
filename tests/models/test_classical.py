"""Classical models: torch prediction from stored arrays equals scikit-learn's; safe loading."""
import numpy as np
import pytest
import torch

from helpers.config import Config
from helpers.data.layouts import COCO17, JHMDB15
from helpers.errors import UserInputError
from helpers.models.classical import ClassicalModel
from helpers.models.features import angle_triples, feature_count, skeleton_features
from helpers.models.registry import count_parameters
from helpers.training.checkpoint import load_checkpoint, save_checkpoint


def random_problem(seed=0, clips=60, classes=4):
    """Random model inputs (N, 2, T, V, 1) on JHMDB-15 whose class shifts the wrists, and labels."""
    rng = np.random.default_rng(seed)
    labels = np.arange(clips) % classes
    x = rng.normal(size=(clips, 2, 16, JHMDB15.num_joints, 1)).astype(np.float32)
    x[:, 1, :, [11, 12], 0] += labels[None, :, None] * 0.8
    return torch.from_numpy(x), labels


def fitted(estimator, classes=4, **settings):
    x, labels = random_problem(classes=classes)
    model = ClassicalModel(classes, JHMDB15, 2, estimator=estimator, trees=15, **settings)
    features = skeleton_features(x, JHMDB15).numpy()
    return model.fit(features, labels, seed=0), x, features, labels


@pytest.mark.parametrize("estimator", ["extra_trees", "random_forest"])
def test_forest_probabilities_equal_scikit_learn(estimator):
    model, x, features, labels = fitted(estimator)
    sklearn_model = model.make_estimator(0).fit(features, labels)
    expected = sklearn_model.predict_proba(features[:20])
    assert np.allclose(torch.softmax(model(x[:20]), 1).numpy(), np.maximum(expected, 1e-6)
                       / np.maximum(expected, 1e-6).sum(1, keepdims=True), atol=1e-6)
    other, _ = random_problem(seed=1)                                 # unseen clips take other paths
    expected = sklearn_model.predict_proba(skeleton_features(other, JHMDB15).numpy())
    assert np.array_equal(torch.softmax(model(other), 1).numpy().argmax(1), expected.argmax(1))


def test_logistic_probabilities_equal_scikit_learn_and_two_classes_fill_both_rows():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    for classes in (4, 2):
        model, x, features, labels = fitted("logistic", classes=classes)
        scaler = StandardScaler().fit(features.astype(np.float64))
        reference = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(features.astype(np.float64)), labels)
        expected = reference.predict_proba(scaler.transform(features.astype(np.float64)))
        assert np.allclose(torch.softmax(model(x), 1).numpy(), expected, atol=1e-5)


def test_checkpoint_round_trip_loads_weights_only_and_predicts_the_same(tmp_path):
    model, x, _, _ = fitted("random_forest")
    config = Config()
    config.model.name, config.model.extra = "classical", {"estimator": "random_forest", "trees": 15}
    path = save_checkpoint(tmp_path / "best.pt", model, config, list("abcd"), JHMDB15, 2, config.model.extra, 1, {})
    loaded = load_checkpoint(path)                                    # torch.load(weights_only=True)
    assert torch.equal(loaded.model(x), model(x))
    assert count_parameters(loaded.model) == model.stored_values() > 0
    state = torch.load(path, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state["state_dict"].values())   # no estimator object stored


@pytest.mark.parametrize("damage", ["backwards", "leaf", "feature"])
def test_malformed_tree_arrays_are_refused(tmp_path, damage):
    model, _, _, _ = fitted("extra_trees")
    config = Config()
    config.model.name, config.model.extra = "classical", {"estimator": "extra_trees", "trees": 15}
    path = save_checkpoint(tmp_path / "best.pt", model, config, list("abcd"), JHMDB15, 2, config.model.extra, 1, {})
    state = torch.load(path, weights_only=True)
    arrays = state["state_dict"]
    inner = int(torch.nonzero(arrays["node_left"] >= 0)[0])
    if damage == "backwards":                                         # a cycle would loop forever
        arrays["node_left"][inner] = 0 if inner > 0 else inner
    elif damage == "leaf":
        arrays["node_right"][0] = -len(arrays["leaf_value"]) - 5
    else:
        arrays["node_feature"][0] = feature_count(JHMDB15) + 3
    torch.save(state, path)
    with pytest.raises(UserInputError, match=f"{path}: its weights do not fit model 'classical'"):
        load_checkpoint(path)


def test_features_ignore_position_and_scale_of_the_clip_and_count_matches():
    from helpers.config import PreprocessConfig
    from helpers.transforms.clips import clip_to_input

    rng = np.random.default_rng(0)
    keypoint = rng.normal(100, 20, size=(1, 40, COCO17.num_joints, 2)).astype(np.float32)
    clip = {"frame_dir": "c", "label": 0, "keypoint": keypoint, "keypoint_score": np.ones((1, 40, 17), np.float32)}
    moved = dict(clip, keypoint=keypoint * 3.0 + np.float32(250.0))
    preprocess = PreprocessConfig(length=32, sampling="uniform")

    def features(c):
        return skeleton_features(torch.from_numpy(clip_to_input(c, COCO17, preprocess, ["joint"]))[None], COCO17)

    assert features(clip).shape == (1, feature_count(COCO17)) == (1, 1495)
    assert torch.allclose(features(clip), features(moved), atol=1e-4)
    assert len(angle_triples(JHMDB15)) == 17 and feature_count(JHMDB15) == 1223


def test_unfitted_model_and_bad_settings_say_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        ClassicalModel(3, JHMDB15, 2)(torch.zeros(1, 2, 16, 15, 1))
    with pytest.raises(UserInputError, match="model.extra.estimator: 'svm'"):
        ClassicalModel(3, JHMDB15, 2, estimator="svm")
