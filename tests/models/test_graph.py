import numpy as np
import pytest

from helpers.models import graph
from helpers.data.layouts import LAYOUTS


@pytest.fixture(params=list(LAYOUTS.values()), ids=list(LAYOUTS))
def layout(request):
    return request.param


def test_spatial_partition_shape_and_dtype(layout):
    a = graph.spatial_partition(layout)
    assert a.shape == (3, layout.num_joints, layout.num_joints)
    assert a.dtype == np.float32


def test_self_links_are_identity(layout):
    a = graph.spatial_partition(layout)
    np.testing.assert_array_equal(a[0], np.eye(layout.num_joints))
    assert np.all(np.diag(graph.neighbours(layout, with_self=True)) == 1)
    assert np.all(np.diag(graph.neighbours(layout)) == 0)


def test_undirected_adjacency_is_symmetric_and_has_every_bone(layout):
    a = graph.neighbours(layout)
    np.testing.assert_array_equal(a, a.T)
    assert a.sum() == 2 * len(layout.edges)
    for child, parent in layout.edges:
        assert a[child, parent] == a[parent, child] == 1


def test_inward_points_from_child_to_parent(layout):
    a = graph.inward(layout)
    parents = layout.parents()
    for child in range(layout.num_joints):
        if child != layout.root:
            assert a[child, parents[child]] == 1
    np.testing.assert_array_equal(graph.outward(layout), a.T)


def test_partition_columns_are_normalised(layout):
    a = graph.spatial_partition(layout)
    for part in a:
        sums = part.sum(axis=0)  # one per output joint
        assert np.all(np.isclose(sums, 1.0) | np.isclose(sums, 0.0))
    # every joint is fed by its parent (outward part) except the root
    out_sums = a[2].sum(axis=0)
    assert np.isclose(out_sums[layout.root], 0.0)
    assert np.isclose(np.delete(out_sums, layout.root), 1.0).all()
    # the un-normalised parts rebuild the undirected graph with self-links
    support = (a > 0).sum(axis=0)
    np.testing.assert_array_equal(support, graph.neighbours(layout, with_self=True))


def test_uniform_partition_and_symmetric_normalisation(layout):
    u = graph.uniform_partition(layout)
    assert u.shape == (1, layout.num_joints, layout.num_joints)
    np.testing.assert_allclose(u[0].sum(axis=0), 1.0, rtol=1e-6)
    s = graph.normalize_symmetric(graph.neighbours(layout, with_self=True))
    np.testing.assert_allclose(s, s.T, rtol=1e-6)
