"""Devices, mixed precision and loader settings; the CUDA tests skip where torch sees no GPU."""
import pytest
import torch
from torch import nn

from helpers.config import Config
from helpers.data.dataset import validate_dataset
from helpers.errors import UserInputError
from helpers.evaluation.scoring import clip_probabilities, evaluate, split_clips
from helpers.training.checkpoint import load_checkpoint
from helpers.training.device import (Precision, check_device_name, cpu_has_native_bf16, loader_workers, pick_device,
                                     pick_precision)
from helpers.training.loop import train
from helpers.training.step import make_optimizer, train_step
from tests.conftest import make_tiny_dataset

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA device: torch.cuda.is_available() is False on this machine")


def tiny_config(epochs=1) -> Config:
    config = Config()
    config.model.name, config.model.extra = "stgcn", {"stages": [[8, 1]]}
    config.preprocess.length = 16
    config.train.epochs, config.train.batch_size = epochs, 8
    return config


def test_device_names_are_checked():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    for name in ("cuda", "cuda:0", "cpu", "auto"):
        assert check_device_name(name) == name
    with pytest.raises(UserInputError, match=r"train.device: 'gpu' is not a device; use auto, cpu, cuda or cuda:N"):
        pick_device("gpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_is_a_user_error():
    with pytest.raises(UserInputError, match=r"--device: 'cuda:0' asks for CUDA, but torch .* sees no CUDA device"):
        pick_device("cuda:0", where="--device")


def test_cpu_trains_in_float32_with_workers_off_by_default():
    precision = pick_precision(torch.device("cpu"), amp=True)
    assert precision.dtype is None and precision.name == "float32" and not precision.grad_scaler().is_enabled()
    assert loader_workers(torch.device("cpu"), -1) == 0 and loader_workers(torch.device("cpu"), 3) == 3


needs_cpu_bf16 = pytest.mark.skipif(not cpu_has_native_bf16(),
                                    reason="this CPU has no native bfloat16 arithmetic (AVX512-BF16 or AMX)")


def test_cpu_bf16_is_refused_where_the_cpu_would_emulate_it(monkeypatch):
    from helpers.training import device as device_module

    monkeypatch.setattr(device_module, "cpu_has_native_bf16", lambda: False)
    with pytest.raises(UserInputError, match=r"^train.cpu_bf16: this CPU has no native bfloat16"):
        pick_precision(torch.device("cpu"), amp=True, cpu_bf16=True)
    assert pick_precision(torch.device("cpu"), amp=True, cpu_bf16=False).dtype is None


@needs_cpu_bf16
def test_a_cpu_bf16_step_keeps_float32_weights_and_tracks_the_float32_step():
    from helpers.data.layouts import COCO17
    from helpers.models.registry import build_model

    precision = pick_precision(torch.device("cpu"), amp=True, cpu_bf16=True)
    assert precision.dtype == torch.bfloat16 and precision.name == "bfloat16" and not precision.grad_scaler().is_enabled()
    inputs, targets = torch.randn(16, 2, 16, 17, 1, generator=torch.Generator().manual_seed(1)), torch.arange(16) % 3
    losses = {}
    for step_precision in (Precision("cpu"), precision):
        torch.manual_seed(0)
        model = build_model("stgcn", 3, COCO17, 2, stages=[[8, 1]])
        optimizer, scaler = make_optimizer(model, Config().train), step_precision.grad_scaler()
        losses[step_precision.name] = [
            float(train_step(model, inputs, targets, nn.CrossEntropyLoss(), optimizer, scaler, step_precision,
                             5.0)[0]) for _ in range(10)]
        assert all(p.dtype == torch.float32 for p in model.parameters())
    assert losses["bfloat16"][-1] < losses["bfloat16"][0]
    # bfloat16 keeps 8 bits of mantissa: the same steps, losses within a few hundredths
    assert max(abs(a - b) for a, b in zip(losses["float32"], losses["bfloat16"])) < 0.05
    assert losses["float32"] != losses["bfloat16"]  # the autocast really ran in bfloat16


@needs_cuda
def test_cuda_picks_bf16_or_fp16_and_the_local_rank():
    precision = pick_precision(torch.device("cuda"), amp=True)
    assert precision.dtype == (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
    assert precision.grad_scaler().is_enabled() == (precision.dtype == torch.float16)
    assert pick_precision(torch.device("cuda"), amp=False).dtype is None
    assert pick_device("cuda", local_rank=0) == torch.device("cuda", 0)
    with pytest.raises(UserInputError, match="under torchrun each process uses its own"):
        pick_device("cuda:0", local_rank=0)
    assert loader_workers(torch.device("cuda"), -1) >= 1


@needs_cuda
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_a_mixed_precision_step_learns(dtype):
    if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    torch.manual_seed(0)
    from helpers.data.layouts import COCO17
    from helpers.models.registry import build_model

    model = build_model("stgcn", 3, COCO17, 2, stages=[[8, 1]]).cuda()
    precision = Precision("cuda", dtype)
    optimizer, scaler = make_optimizer(model, Config().train), precision.grad_scaler()
    inputs, targets = torch.randn(16, 2, 16, 17, 1, device="cuda"), torch.arange(16, device="cuda") % 3
    losses = [float(train_step(model, inputs, targets, nn.CrossEntropyLoss(), optimizer, scaler, precision, 5.0)[0])
              for _ in range(20)]
    assert losses[-1] < losses[0]


@needs_cuda
def test_a_gpu_checkpoint_loads_on_cpu_and_a_cpu_checkpoint_on_gpu(tmp_path):
    dataset = validate_dataset(make_tiny_dataset(), "mem")
    for device in ("cuda", "cpu"):
        config = tiny_config()
        config.train.device = device
        train(config, dataset, tmp_path / device, verbose=False)
    gpu_trained = load_checkpoint(tmp_path / "cuda" / "best.pt")            # map_location cpu
    assert all(value.device.type == "cpu" for value in gpu_trained.model.state_dict().values())
    clips = split_clips(dataset, gpu_trained, "val")
    on_cpu, on_gpu = clip_probabilities(gpu_trained, clips, "cpu"), clip_probabilities(gpu_trained, clips, "cuda")
    assert on_cpu == pytest.approx(on_gpu, abs=1e-4)
    cpu_trained = load_checkpoint(tmp_path / "cpu" / "best.pt")
    assert (evaluate(cpu_trained, dataset, "val", verbose=False, device="cuda")["accuracy"]
            == evaluate(cpu_trained, dataset, "val", verbose=False, device="cpu")["accuracy"])
