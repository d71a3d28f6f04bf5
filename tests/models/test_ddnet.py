"""DD-Net style model: shapes for every layout, its scale-free distance features, a seeded step."""
import math

import pytest
import torch

from helpers.config import Config
from helpers.models.ddnet import DDNet, frame_differences, joint_collection_distances
from helpers.data.layouts import JHMDB15, LAYOUTS
from helpers.models.registry import build_model, count_parameters, model_kwargs
from tests.conftest import seeded_training_losses

torch.set_num_threads(2)


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
@pytest.mark.parametrize("frames", [2, 3, 7, 32])
def test_forward_shape(layout, frames):
    model = DDNet(5, layout, filters=4).eval()
    x = torch.randn(3, 2, frames, layout.num_joints, 2)  # (N, C, T, V, M)
    assert model(x).shape == (3, 5)


def test_uses_the_main_person_only():
    model = DDNet(5, JHMDB15, filters=4).eval()
    x = torch.randn(2, 2, 8, JHMDB15.num_joints, 2)
    other = x.clone()
    other[..., 1] = torch.randn_like(other[..., 1])
    assert torch.equal(model(x), model(other))


def test_joint_distances_are_free_of_scale_rotation_and_translation():
    coords = torch.randn(2, 6, JHMDB15.num_joints, 2)  # (N, T, V, 2)
    angle = 0.7
    rotation = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = 3.0 * coords @ rotation.T + torch.tensor([5.0, -2.0])
    features = joint_collection_distances(coords)
    v = JHMDB15.num_joints
    assert features.shape == (2, v * (v - 1) // 2, 6)
    assert torch.allclose(features, joint_collection_distances(moved), atol=1e-4)
    assert features.mean(dim=(1, 2)).abs().max() < 1e-5          # divided by the clip mean, minus 1
    all_pairs = (coords[:, :, :, None] - coords[:, :, None]).norm(dim=-1)   # (N, T, V, V), each pair twice
    mean_distance = all_pairs.sum(dim=(1, 2, 3)) / (6 * v * (v - 1))         # over the clip's pairs and frames
    first_pair = (coords[:, :, 0] - coords[:, :, 1]).norm(dim=-1)            # joints 0 and 1: pair 0, (N, T)
    assert torch.allclose(features[:, 0], first_pair / mean_distance[:, None] - 1, atol=1e-4)


def test_frame_differences_slow_and_fast():
    coords = torch.arange(6.0).view(1, 6, 1, 1).expand(1, 6, 3, 2)  # x = y = frame index
    slow, fast = frame_differences(coords, 1), frame_differences(coords, 2)
    assert slow.shape == (1, 6, 6) and fast.shape == (1, 6, 3)     # (N, V*2, T // step)
    assert torch.equal(slow[0, 0], torch.tensor([1.0, 1, 1, 1, 1, 0]))
    assert torch.equal(fast[0, 0], torch.tensor([2.0, 2, 0]))


def test_width_matches_the_paper_and_the_budget():
    assert 1_700_000 < count_parameters(DDNet(14, JHMDB15, filters=64)) <= 1_800_000   # DD-Net JHMDB: 1.8 M
    assert count_parameters(DDNet(14, JHMDB15, filters=16)) < 200_000


def test_built_from_a_config_and_refuses_stacked_streams():
    config = Config()
    config.model.name, config.model.dropout, config.model.extra = "ddnet", 0.3, {"filters": 8}
    model = build_model("ddnet", 4, JHMDB15, 2, **model_kwargs(config))
    assert isinstance(model, DDNet) and model.head[3].p == 0.3
    with pytest.raises(ValueError, match="streams: \\[joint\\]"):
        DDNet(4, JHMDB15, in_channels=4)


def seeded_losses():
    return seeded_training_losses(lambda: DDNet(4, JHMDB15, filters=8, dropout=0.0, feature_dropout=0.0), lambda params: torch.optim.Adam(params, lr=1e-3))


def test_seeded_training_step_reduces_loss_and_is_reproducible():
    first, second = seeded_losses(), seeded_losses()
    assert first == second
    assert first[0] == pytest.approx(1.3639, abs=1e-4) and first[-1] == pytest.approx(0.2731, abs=1e-4)
