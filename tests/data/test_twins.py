"""Body-shape description of clips and groups of likely same-person, same-video twins."""
import numpy as np
import pytest

from helpers.data import twins


def test_body_shape_ignores_position_and_size():
    rng = np.random.default_rng(0)
    keypoint = rng.normal(size=(12, 15, 2))
    shape = twins.body_shape(keypoint)
    assert shape.shape == (15 * 14,)
    assert twins.body_shape(3.0 * keypoint + np.array([5.0, -2.0])) == pytest.approx(shape)
    assert np.abs(twins.body_shape(rng.normal(size=(12, 15, 2))) - shape).max() > 0.01


def test_twin_groups_link_mutual_near_neighbours_of_one_class():
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 10, size=(3, 4))
    # three tight clusters of three clips (class 0, 0, 1) and one loner far away (class 1)
    shapes = np.concatenate([centre + rng.normal(0, 0.01, size=(3, 4)) for centre in centres] + [np.full((1, 4), 99.0)])
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    groups = twins.twin_groups(shapes, labels)
    assert len(set(groups[0:3])) == 1 and len(set(groups[3:6])) == 1 and len(set(groups[6:9])) == 1
    assert len({groups[0], groups[3], groups[6], groups[9]}) == 4     # clusters and the loner stay apart
    same_place = np.zeros((4, 4))                                    # identical shapes, two classes
    assert len(set(twins.twin_groups(same_place, np.array([0, 0, 1, 1])))) == 2
