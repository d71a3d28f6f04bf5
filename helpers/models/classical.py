"""Classical models: scikit-learn estimators on hand-made skeleton features, stored as plain arrays.

`ClassicalModel` is an `nn.Module` like every other model here: it takes a batch
(N, C, T, V, M) and returns logits (N, K), so evaluation, late fusion, prediction,
timing and checkpoints treat it as any model.  It computes `skeleton_features` and
applies a fitted estimator: an extra-trees or random forest (class probabilities
averaged over trees) or a logistic regression on standardised features.

It is fitted, not trained by gradient steps: `fit(features, labels)` runs
scikit-learn once and copies what prediction needs into tensors (buffers):
the trees' split features, thresholds and children and their leaves' class
probabilities, or the scaler's means and scales and the linear weights.  Those
tensors are the whole fitted model: checkpoints store them in the state dict and
are loaded with `torch.load(weights_only=True)`, prediction re-implements the
estimators' arithmetic in torch from them, and no scikit-learn object is ever
pickled or unpickled.  On loading, every index is checked to lie in range and every
tree to point only forward, so a malformed file is refused and cannot make
prediction loop or read out of bounds.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from helpers.data.layouts import Layout
from helpers.errors import UserInputError
from helpers.models.features import feature_count, skeleton_features

ESTIMATORS = ("extra_trees", "random_forest", "logistic")
FOREST_BUFFERS = ("node_feature", "node_threshold", "node_left", "node_right", "tree_root", "leaf_value")
LOGISTIC_BUFFERS = ("feature_mean", "feature_scale", "weight", "bias")
# log of a zero tree probability: a finite floor, so averaging views or fusing models stays finite
LOG_FLOOR = 1e-6


class ClassicalModel(nn.Module):
    """Skeleton features (helpers.models.features) + a fitted scikit-learn estimator, evaluated in torch.

    Input (N, C, T, V, M); output logits (N, K) whose softmax is the estimator's class
    probabilities (forests: log of the tree average, floored at LOG_FLOOR).
    `estimator`: 'extra_trees' (default), 'random_forest' or 'logistic'.  `trees`,
    `max_features`, `min_samples_leaf`: forest settings; `c`: inverse L2 strength of the
    logistic regression; `segments`: time segments of the features; `copies`: training
    views per clip (the first plain, the others augmented; read by the fitting code).
    """

    def __init__(self, num_classes: int, layout: Layout, in_channels: int, estimator: str = "extra_trees",
                 trees: int = 300, max_features: str | float | int = "sqrt", min_samples_leaf: int = 1,
                 c: float = 1.0, segments: int = 4, copies: int = 1):
        super().__init__()
        if estimator not in ESTIMATORS:
            raise UserInputError(f"model.extra.estimator: {estimator!r}; use one of {', '.join(ESTIMATORS)}")
        if copies < 1 or segments < 1 or trees < 1:
            raise UserInputError("model.extra: copies, segments and trees must be at least 1")
        self.num_classes, self.layout, self.segments, self.estimator = num_classes, layout, segments, estimator
        self.settings = {"trees": trees, "max_features": max_features, "min_samples_leaf": min_samples_leaf,
                         "c": c, "copies": copies}
        self.num_features = feature_count(layout, segments)
        for name in self._buffer_names():
            self.register_buffer(name, torch.zeros(0))          # sized by fit() or by loading a state dict

    def extra_repr(self) -> str:
        used = ("c", "copies") if self.estimator == "logistic" else ("trees", "max_features", "min_samples_leaf",
                                                                       "copies")
        return ", ".join([f"estimator={self.estimator}", *(f"{k}={self.settings[k]}" for k in used),
                          f"features={self.num_features}"])

    def _buffer_names(self) -> tuple[str, ...]:
        return LOGISTIC_BUFFERS if self.estimator == "logistic" else FOREST_BUFFERS

    @property
    def fitted(self) -> bool:
        return all(getattr(self, name).numel() > 0 for name in self._buffer_names())

    def stored_values(self) -> int:
        """How many numbers the fitted estimator stores (its size, in place of trainable parameters)."""
        return sum(getattr(self, name).numel() for name in self._buffer_names())

    # ---- fitting ------------------------------------------------------------------

    def make_estimator(self, seed: int):
        """The unfitted scikit-learn estimator of these settings (one thread, seeded)."""
        # scikit-learn (about 100 MiB) is imported only when a classical model is fitted, not by every training run
        from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
        from sklearn.linear_model import LogisticRegression

        s = self.settings
        if self.estimator == "logistic":
            return LogisticRegression(C=s["c"], max_iter=2000)
        forest = ExtraTreesClassifier if self.estimator == "extra_trees" else RandomForestClassifier
        return forest(n_estimators=s["trees"], max_features=s["max_features"],
                      min_samples_leaf=s["min_samples_leaf"], random_state=seed, n_jobs=1)

    def fit(self, features: np.ndarray, labels: np.ndarray, seed: int = 0) -> "ClassicalModel":
        """Fit on features (N, F) float32 and labels (N,) in 0..K-1; the result lives in the buffers."""
        if features.shape[1] != self.num_features:
            raise ValueError(f"expected {self.num_features} features per clip, got {features.shape[1]}")
        estimator = self.make_estimator(seed)
        if self.estimator == "logistic":
            from sklearn.preprocessing import StandardScaler   # only when fitting, as make_estimator

            scaler = StandardScaler().fit(features.astype(np.float64))
            estimator.fit(scaler.transform(features.astype(np.float64)), labels)
            arrays = logistic_arrays(scaler, estimator, self.num_classes)
        else:
            estimator.fit(features, labels)
            arrays = forest_arrays(estimator, self.num_classes)
        for name, value in arrays.items():
            setattr(self, name, torch.from_numpy(value))
        self._check_fitted()
        return self

    # ---- prediction ---------------------------------------------------------------

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.fitted:
            raise RuntimeError("this classical model is not fitted yet (helpers.training.fit)")
        features = skeleton_features(x, self.layout, self.segments)            # (N, F) float32
        if self.estimator == "logistic":
            standard = (features.double() - self.feature_mean) / self.feature_scale
            return (standard @ self.weight.T + self.bias).float()              # (N, K)
        return forest_probabilities(self, features).clamp_min(LOG_FLOOR).log().float()

    # ---- loading ------------------------------------------------------------------

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        # the fitted arrays' sizes are known only from the file: take them before torch compares shapes
        for name in self._buffer_names():
            value = state_dict.get(prefix + name)
            if isinstance(value, torch.Tensor):
                setattr(self, name, torch.empty_like(value))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        if self.fitted:
            self._check_fitted()

    def _check_fitted(self) -> None:
        """Refuse arrays that do not form a valid estimator for this feature size and class count."""
        k, f = self.num_classes, self.num_features

        def fail(what: str):
            raise UserInputError(f"classical model ({self.estimator}): {what}")

        if self.estimator == "logistic":
            shapes = {"feature_mean": (f,), "feature_scale": (f,), "weight": (k, f), "bias": (k,)}
            for name, shape in shapes.items():
                value = getattr(self, name)
                if tuple(value.shape) != shape or value.dtype != torch.float64 or not torch.isfinite(value).all():
                    fail(f"{name} must be finite float64 of shape {shape}, got {tuple(value.shape)} {value.dtype}")
            if (self.feature_scale <= 0).any():
                fail("feature_scale must be positive")
            return
        internal, leaves = len(self.node_feature), len(self.leaf_value)
        for name in ("node_feature", "node_left", "node_right", "tree_root"):
            if getattr(self, name).dtype != torch.int64 or getattr(self, name).ndim != 1:
                fail(f"{name} must be a 1-D int64 array")
        if self.node_threshold.dtype != torch.float64 or tuple(self.node_threshold.shape) != (internal,):
            fail("node_threshold must be float64, one per internal node")
        if len(self.node_left) != internal or len(self.node_right) != internal:
            fail("node_left and node_right need one entry per internal node")
        if tuple(self.leaf_value.shape) != (leaves, k) or self.leaf_value.dtype != torch.float32:
            fail(f"leaf_value must be float32 of shape (leaves, {k})")
        if internal and ((self.node_feature < 0) | (self.node_feature >= f)).any():
            fail(f"node_feature indices must lie in 0..{f - 1}")
        ids = torch.arange(internal)
        for children in (self.node_left, self.node_right):
            # a child is a later internal node (so every path ends) or a leaf, coded -1 - leaf index
            if ((children >= 0) & (children <= ids)).any() or (children >= internal).any() or \
                    (children < -leaves).any():
                fail("children must point to later internal nodes or to existing leaves")
        if ((self.tree_root >= internal) | (self.tree_root < -leaves)).any() or len(self.tree_root) == 0:
            fail("tree roots must be existing nodes or leaves")


def forest_arrays(forest, num_classes: int) -> dict[str, np.ndarray]:
    """A fitted scikit-learn forest as flat arrays over all trees.

    Internal nodes get global numbers in tree order (so children always come after
    their parent, as in scikit-learn); a child or root < 0 is leaf `-1 - value`.
    leaf_value (L, K): each leaf's class probabilities over all K classes (a class
    absent from the training data gets 0)."""
    features, thresholds, lefts, rights, roots, values = [], [], [], [], [], []
    internal_total = leaf_total = 0
    classes = forest.classes_.astype(np.int64)
    for tree in forest.estimators_:
        t = tree.tree_
        is_leaf = t.children_left < 0
        internal_ids = np.cumsum(~is_leaf) - 1 + internal_total          # global number of each internal node
        leaf_ids = np.cumsum(is_leaf) - 1 + leaf_total

        def code(node):
            return np.where(is_leaf[node], -1 - leaf_ids[node], internal_ids[node])

        inner = np.flatnonzero(~is_leaf)
        features.append(t.feature[inner].astype(np.int64))
        thresholds.append(t.threshold[inner].astype(np.float64))
        lefts.append(code(t.children_left[inner]).astype(np.int64))
        rights.append(code(t.children_right[inner]).astype(np.int64))
        roots.append(int(code(np.array([0]))[0]))
        probabilities = t.value[is_leaf, 0, :]                              # (leaves, classes seen)
        probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
        full = np.zeros((len(probabilities), num_classes), dtype=np.float32)
        full[:, classes] = probabilities
        values.append(full)
        internal_total += len(inner)
        leaf_total += int(is_leaf.sum())
    return {"node_feature": np.concatenate(features), "node_threshold": np.concatenate(thresholds),
            "node_left": np.concatenate(lefts), "node_right": np.concatenate(rights),
            "tree_root": np.array(roots, dtype=np.int64), "leaf_value": np.concatenate(values)}


def forest_probabilities(model: ClassicalModel, features: torch.Tensor) -> torch.Tensor:
    """features (N, F) float32 -> (N, K): the mean over trees of each tree's leaf probabilities.

    As scikit-learn: go left where feature <= threshold (the float32 feature compared
    in float64), until every (clip, tree) has reached a leaf."""
    n, trees = len(features), len(model.tree_root)
    node = model.tree_root.expand(n, trees).clone()                          # (N, trees) current node codes
    rows = torch.arange(n)[:, None].expand(n, trees)
    features = features.double()
    while True:
        inside = node >= 0
        if not inside.any():
            break
        here = node.clamp_min(0)
        go_left = features[rows, model.node_feature[here]] <= model.node_threshold[here]
        step = torch.where(go_left, model.node_left[here], model.node_right[here])
        node = torch.where(inside, step, node)
    return model.leaf_value[-1 - node].mean(dim=1)                           # (N, K)


def logistic_arrays(scaler, logistic, num_classes: int) -> dict[str, np.ndarray]:
    """A fitted StandardScaler + LogisticRegression as arrays over all K classes: weight (K, F), bias (K,).

    Two classes seen: scikit-learn keeps one row w (class 1 against 0); rows [0, w]
    give the same softmax.  A class absent from the training data gets a very low bias."""
    classes = logistic.classes_.astype(np.int64)
    coef, intercept = logistic.coef_.astype(np.float64), logistic.intercept_.astype(np.float64)
    if len(classes) == 2:
        coef, intercept = np.stack([np.zeros_like(coef[0]), coef[0]]), np.array([0.0, intercept[0]])
    weight = np.zeros((num_classes, coef.shape[1]))
    bias = np.full(num_classes, -1e4)
    weight[classes], bias[classes] = coef, intercept
    scale = scaler.scale_.astype(np.float64)
    return {"feature_mean": scaler.mean_.astype(np.float64), "feature_scale": np.where(scale > 0, scale, 1.0),
            "weight": weight, "bias": bias}
