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


def test_every_16_bit_number_of_a_64_bit_draw_is_uniform():
    # each draw gives four numbers: were a word's top bits fixed, one position in four would never drop
    torch.manual_seed(4)
    out = dropout(torch.ones(4 * 250_000), 0.5, training=True)
    for position in range(4):
        assert (out[position::4] == 0).float().mean().item() == pytest.approx(0.5, abs=0.004)  # 4 standard errors


def test_p_is_rounded_to_a_multiple_of_2_to_the_minus_16_and_the_scale_is_one_over_the_share_kept():
    p = 0.2083
    kept = 1 - round(p * 2 ** 16) / 2 ** 16
    out = dropout(torch.ones(100), p, training=True)
    assert torch.equal(out[out != 0], torch.full_like(out[out != 0], 1 / kept))


def test_p_too_close_to_one_to_round_below_it_zeroes_everything():
    assert torch.equal(dropout(torch.ones(3, 4), 1 - 1e-7, training=True), torch.zeros(3, 4))


def test_torch_compile_traces_the_mask_without_a_graph_break():
    # an in-place draw (random_) broke the compiled graph at every dropout
    explained = torch._dynamo.explain(lambda x: dropout(x, 0.2, training=True))(torch.randn(4, 6))
    assert explained.graph_break_count == 0
