import numpy as np
import torch

from helpers.data.geometry import joint_pair_distances


def test_joint_pair_distances_numpy_and_torch():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])              # (V=3, 2)
    expected = np.array([5.0, 1.0, np.sqrt(9.0 + 9.0)])                 # pairs (0,1), (0,2), (1,2)
    np.testing.assert_allclose(joint_pair_distances(points), expected)
    batch = torch.tensor(np.stack([points, 2 * points]))                 # (2, V, 2), leading axes kept
    np.testing.assert_allclose(joint_pair_distances(batch).numpy(), np.stack([expected, 2 * expected]))
    assert joint_pair_distances(torch.zeros(3, 2), eps=1e-8).min() > 0   # eps: a finite root gradient
