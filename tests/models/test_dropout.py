import pytest
import torch

from forecast.models.dropout import Dropout, dropout


def test_on_the_cpu_a_share_p_is_zeroed_and_the_rest_scaled_by_one_over_one_minus_p():
    torch.manual_seed(0)
    x = torch.rand(1000, 1000) + 1  # no zeros of its own
    out = dropout(x, 0.3, training=True)
    zeroed = out == 0
    assert zeroed.float().mean().item() == pytest.approx(0.3, abs=0.002)  # about 4 standard errors of 1e6 draws
    assert torch.allclose(out[~zeroed], x[~zeroed] / 0.7)


def test_the_gradient_is_the_mask_scaled():
    torch.manual_seed(1)
    x = torch.randn(64, 32, requires_grad=True)
    out = dropout(x, 0.25, training=True)
    out.sum().backward()
    expected = (out != 0).float() / 0.75
    assert torch.equal(x.grad, expected)


def test_in_evaluation_or_at_p_zero_the_input_passes_unchanged():
    x = torch.randn(8, 5)
    assert torch.equal(dropout(x, 0.5, training=False), x)
    assert torch.equal(dropout(x, 0.0, training=True), x)
    layer = Dropout(0.5).eval()
    assert torch.equal(layer(x), x)


def test_p_one_zeroes_everything_as_torch_does():
    assert torch.equal(dropout(torch.ones(3, 4), 1.0, training=True), torch.zeros(3, 4))


def test_a_channels_last_bf16_map_stays_channels_last_bf16():
    x = torch.randn(4, 6, 1, 10).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    out = dropout(x, 0.2, training=True)
    assert out.dtype == torch.bfloat16 and out.is_contiguous(memory_format=torch.channels_last)


def test_the_draw_follows_torchs_seed():
    x = torch.randn(32, 32)
    torch.manual_seed(3)
    first = dropout(x, 0.4, training=True)
    torch.manual_seed(3)
    assert torch.equal(dropout(x, 0.4, training=True), first)
