import pytest
import torch

from helpers.data.layouts import JHMDB15, LAYOUTS
from helpers.models.registry import count_parameters
from helpers.models.stgcn import STGCN, Dropout, GraphConv
from tests.conftest import seeded_training_losses

torch.set_num_threads(2)
SMALL = ((8, 1), (16, 2))  # tiny channel plan: small for testing efficiency
PINNED_LAST_LOSS = 1.281  # the 5th loss of seeded_losses()


@pytest.mark.parametrize("layout", list(LAYOUTS.values()), ids=list(LAYOUTS))
@pytest.mark.parametrize("persons", [1, 2])
def test_forward_shape(layout, persons):
    model = STGCN(5, layout, in_channels=4, stages=SMALL, max_persons=2).eval()
    x = torch.randn(3, 4, 12, layout.num_joints, persons)  # (N, C, T, V, M)
    assert model(x).shape == (3, 5)


def test_adjacency_is_a_buffer_from_the_layout():
    model = STGCN(5, JHMDB15)
    assert "adjacency" in dict(model.named_buffers())
    assert model.adjacency.shape == (3, JHMDB15.num_joints, JHMDB15.num_joints)


def test_default_model_parameter_count():
    # the default plan on JHMDB-15, about a tenth of DD-Net's 1.8 M; six more input channels add 188 each:
    # the first block's graph convolution (96 outputs) and residual (32), and data_bn's scale and shift
    # for 15 joints x 2 persons
    assert count_parameters(STGCN(14, JHMDB15, in_channels=2)) == 187_320
    assert count_parameters(STGCN(14, JHMDB15, in_channels=8)) == 187_320 + 6 * (96 + 32 + 2 * 15 * 2)


def test_too_many_persons_is_an_error():
    model = STGCN(5, JHMDB15, stages=SMALL, max_persons=1)
    with pytest.raises(ValueError):
        model(torch.randn(2, 2, 8, JHMDB15.num_joints, 2))


def seeded_losses():
    return seeded_training_losses(lambda: STGCN(4, JHMDB15, in_channels=2, stages=SMALL, max_persons=1), lambda params: torch.optim.SGD(params, lr=0.1, momentum=0.9))


def test_seeded_training_step_reduces_loss_and_is_reproducible():
    first, second = seeded_losses(), seeded_losses()
    assert first == second
    assert first[0] == pytest.approx(1.4299, abs=1e-4) and first[-1] == pytest.approx(1.2807, abs=1e-4)


@pytest.mark.parametrize("stride", [1, 2])
def test_multiscale_temporal_block_keeps_channels_and_strides_time(stride):
    model = STGCN(5, JHMDB15, in_channels=2, stages=((12, 1), (18, stride)), temporal="multiscale").eval()
    x = torch.randn(2, 2, 16, JHMDB15.num_joints, 1)  # (N, C, T, V, M)
    assert model(x).shape == (2, 5)
    features = model.blocks[0](torch.randn(2, 2, 16, JHMDB15.num_joints), model.adjacency)  # (N, C, T, V)
    assert features.shape == (2, 12, 16, JHMDB15.num_joints)
    assert model.blocks[1](features, model.adjacency).shape == (2, 18, 16 // stride, JHMDB15.num_joints)
    # a frame change reaches at most 1 + 2 * max dilation (4) frames per multiscale layer: causality check
    block = model.blocks[0].tcn.eval()
    base = torch.randn(1, 12, 32, JHMDB15.num_joints)
    moved = base.clone()
    moved[:, :, 16] += 1.0
    changed = (block(moved) - block(base)).abs().sum(dim=(0, 1, 3)) > 0  # (T,)
    assert changed[16] and changed[12] and changed[20] and not changed[11] and not changed[21]


def test_unknown_temporal_kind_is_an_error():
    with pytest.raises(ValueError, match="multiscale"):
        STGCN(5, JHMDB15, temporal="wavelet")


def test_adjacency_is_stored_once_per_checkpoint():
    model = STGCN(5, JHMDB15)
    assert [key for key in model.state_dict() if "adjacency" in key] == ["adjacency"]
    assert all(block.gcn.offset.shape == model.adjacency.shape for block in model.blocks)  # learnable, per block


@pytest.mark.parametrize("channels", [(2, 8), (8, 8), (8, 4)])  # graph first, convolution first, narrower output
def test_graph_conv_computes_its_definition(channels):
    """y[c, t, w] = sum_k sum_v (W_k x + b_k)[c, t, v] (A_k + offset_k)[v, w], whichever order runs."""
    torch.manual_seed(0)
    c_in, c_out = channels
    k, v = 3, JHMDB15.num_joints
    layer = GraphConv(c_in, c_out, k, v).eval()
    with torch.no_grad():
        layer.offset.normal_(0, 0.1)
        layer.conv.bias.normal_()
    adjacency, x = torch.rand(k, v, v), torch.randn(2, c_in, 5, v)  # (K, V, W), (N, C_in, T, V)
    z = layer.conv(x).view(2, k, c_out, 5, v)  # (N, K, C_out, T, V)
    y = torch.einsum("nkctv,kvw->nctw", z, adjacency + layer.offset)
    expected = torch.relu(layer.bn(y) + layer.residual(x))
    torch.testing.assert_close(layer(x, adjacency), expected, atol=1e-5, rtol=1e-5)


def test_dropout_zeroes_a_share_p_and_keeps_the_mean():
    torch.manual_seed(0)
    drop, x = Dropout(0.4), torch.ones(200_000)
    y = drop.train()(x)
    assert abs((y == 0).float().mean().item() - 0.4) < 0.005
    assert torch.all((y == 0) | torch.isclose(y, torch.tensor(1 / 0.6)))
    assert abs(y.mean().item() - 1.0) < 0.01
    assert torch.equal(drop.eval()(x), x) and torch.equal(Dropout(1.0).train()(x), torch.zeros_like(x))


def test_seeded_training_pins_the_loss():
    assert round(seeded_losses()[-1], 3) == PINNED_LAST_LOSS
