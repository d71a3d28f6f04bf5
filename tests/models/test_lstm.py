import pytest
import torch

from helpers.data.layouts import COCO17, JHMDB15
from helpers.models.lstm import BaselineLSTM, ImprovedLSTM
from helpers.models.registry import MODELS, build_model, count_parameters
from tests.conftest import seeded_training_losses


@pytest.mark.parametrize("layout", [COCO17, JHMDB15], ids=["coco17", "jhmdb15"])
def test_lstms_map_batches_to_logits(layout):
    x = torch.randn(4, 2, 16, layout.num_joints, 2)          # (N, C, T, V, M)
    for cls in (BaselineLSTM, ImprovedLSTM):
        model = cls(num_classes=5, layout=layout, hidden_size=32, num_layers=1).eval()
        assert model(x).shape == (4, 5)


def test_improved_adds_batchnorm_and_dropout_before_head():
    model = ImprovedLSTM(num_classes=3, layout=COCO17, hidden_size=16, num_layers=1, dropout=0.4)
    kinds = [type(m).__name__ for m in model.head]
    assert kinds == ["BatchNorm1d", "Dropout", "Linear"] and model.head[1].p == 0.4
    baseline = BaselineLSTM(num_classes=3, layout=COCO17, hidden_size=16, num_layers=1)
    assert count_parameters(model) == count_parameters(baseline) + 2 * 16


def test_lstm_uses_only_the_main_person():
    model = BaselineLSTM(num_classes=3, layout=COCO17, hidden_size=8, num_layers=1).eval()
    x = torch.randn(2, 2, 10, 17, 2)
    changed = x.clone()
    changed[..., 1] = 0
    torch.testing.assert_close(model(x), model(changed))


def test_build_model_rejects_unknown_names():
    assert {"baseline", "improved"} <= set(MODELS)
    with pytest.raises(ValueError, match="unknown model 'transformer'"):
        build_model("transformer", 3, COCO17, 2)


@pytest.mark.parametrize("cls, first, last", [(BaselineLSTM, 1.4122, 1.0821), (ImprovedLSTM, 1.6793, 0.4261)],
                         ids=["baseline", "improved"])
def test_seeded_training_steps_pin_the_losses(cls, first, last):
    def make():
        kwargs = {"dropout": 0.0} if cls is ImprovedLSTM else {}
        return cls(4, JHMDB15, hidden_size=16, num_layers=1, **kwargs)

    losses = seeded_training_losses(make, lambda params: torch.optim.Adam(params, lr=1e-2))
    assert losses == seeded_training_losses(make, lambda params: torch.optim.Adam(params, lr=1e-2))
    assert losses[0] == pytest.approx(first, abs=1e-4) and losses[-1] == pytest.approx(last, abs=1e-4)
