"""Checks that need a CUDA GPU; they skip elsewhere (CI has none) and run on a lent GPU machine."""

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision

import forecast
from forecast.data import WindowDataset, WindowSpec
from forecast.models.densenet import DenseStack
from forecast.models.image import densenet121

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


@cuda
@pytest.mark.parametrize("dim", [1, 2])
def test_memory_efficient_matches_standard_on_gpu(dim):
    torch.manual_seed(0)
    standard = DenseStack(16, (4, 4), growth_rate=8, dim=dim).cuda().train()
    efficient = DenseStack(16, (4, 4), growth_rate=8, dim=dim, memory_efficient=True).cuda().train()
    efficient.load_state_dict(standard.state_dict())
    shape = (8, 16, 64) if dim == 1 else (8, 16, 16, 16)
    x = torch.randn(*shape, device="cuda")
    inputs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    outputs = [net(i) for net, i in zip((standard, efficient), inputs)]
    for out in outputs:
        out.square().mean().backward()
    assert _relative_error(outputs[1], outputs[0]) < 1e-5
    assert _relative_error(inputs[1].grad, inputs[0].grad) < 1e-4
    for (name, a), b in zip(standard.named_buffers(), efficient.buffers()):
        assert torch.allclose(a.double(), b.double(), rtol=1e-5, atol=1e-6), name


@cuda
def test_bf16_channels_last_training_step_is_finite_and_close_to_fp32():
    torch.manual_seed(0)
    model = densenet121(num_classes=10).cuda()
    images = torch.randn(4, 3, 128, 128, device="cuda")
    with torch.no_grad():
        reference = model.eval()(images)
    model = model.to(memory_format=torch.channels_last)
    with torch.no_grad(), torch.autocast("cuda", torch.bfloat16):
        fast = model(images.to(memory_format=torch.channels_last))
    assert fast.dtype == torch.bfloat16 and torch.isfinite(fast).all()
    assert _relative_error(fast.float(), reference) < 3e-2
    model.train()
    with torch.autocast("cuda", torch.bfloat16):
        loss = model(images.to(memory_format=torch.channels_last)).float().logsumexp(1).mean()
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@cuda
def test_torchvision_weights_give_the_same_logits_on_gpu():
    torch.manual_seed(0)
    theirs = torchvision.models.densenet121(weights=None).cuda().eval()
    ours = densenet121().cuda().eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224, device="cuda")
    with torch.no_grad():
        assert _relative_error(ours(x), theirs(x)) < 1e-5


@cuda
@pytest.mark.parametrize("independent", [False, True])
def test_windows_on_the_gpu_gather_the_same_batches(independent):
    inputs = torch.randn(200, 3)
    cpu = WindowDataset(inputs, np.arange(10, 190), WindowSpec(10, 5), inputs, torch.randn(200, 2), independent)
    gpu = cpu.to("cuda")
    picks = [0, 7, 3, len(cpu) - 1]
    for key, value in gpu.__getitems__(picks).items():
        assert value.is_cuda
        assert torch.equal(value.cpu(), cpu.__getitems__(picks)[key]), key


@cuda
def test_a_gpu_fit_keeps_its_training_windows_on_the_gpu():
    rows = np.arange(400)
    frame = pd.DataFrame({"y": np.sin(rows / 8)}, index=pd.date_range("2024-01-01", periods=400, freq="h"))
    model = forecast.Forecaster(model="dlinear", lookback=24, horizon=6, max_epochs=1, accelerator="gpu")
    model.fit(frame)
    assert model.data_.placed("train") is not model.data_.datasets["train"]
    assert model.data_.placed("train").inputs.is_cuda
