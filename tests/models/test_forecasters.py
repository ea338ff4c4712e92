import numpy as np
import pytest
import torch

from forecast.models.baselines import DLinear, Drift, Naive, RidgeLinear, SeasonalNaive
from forecast.models.encoders import FrameEncoder
from forecast.models.forecasters import EncoderLSTM, build_forecaster
from forecast.models.heads import DirectHead, Seq2SeqHead
from forecast.models.image import densenet_bc
from forecast.training.forecasting import ForecastingModule, pinball_loss

ENCODERS = ["densenet-lstm", "densenet2d-lstm", "resnet-lstm", "lstm"]
STEMS = {"densenet-lstm": "encoder.stem.conv", "densenet2d-lstm": "encoder.stem.conv",
         "resnet-lstm": "encoder.stem.0.conv", "lstm": "encoder.linear"}


@pytest.mark.parametrize("name", ENCODERS)
@pytest.mark.parametrize("head", ["seq2seq", "direct", "flatten"])
@pytest.mark.parametrize("quantiles", [None, (0.1, 0.5, 0.9)])
def test_shapes_and_gradients_reach_the_stem(name, head, quantiles):
    torch.manual_seed(0)
    model = build_forecaster(name, in_channels=5, out_channels=3, horizon=12, future_channels=4,
                             head=head, hidden_size=16, quantiles=quantiles, lookback=50)
    x, f, y = torch.randn(6, 50, 5), torch.randn(6, 12, 4), torch.randn(6, 12, 3)
    out = model(x, f, y, teacher_forcing=0.5)
    assert out.shape == ((6, 12, 3, 3) if quantiles else (6, 12, 3))
    out.square().mean().backward()
    stem = dict(model.named_parameters())[f"{STEMS[name]}.weight"]
    assert stem.grad is not None and stem.grad.abs().sum() > 0
    if quantiles:
        assert (out.diff(dim=-1) >= 0).all(), "quantiles must not cross"


@pytest.mark.parametrize("head", ["flatten", "direct"])
def test_head_keeps_bf16_through_to_its_output_layer(head):
    torch.manual_seed(0)
    model = build_forecaster("densenet-lstm", in_channels=1, out_channels=1, horizon=12,
                             future_channels=4, head=head, hidden_size=16, lookback=48)
    seen = []
    model.head.output.linear.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].dtype))
    with torch.autocast("cpu", torch.bfloat16):
        model(torch.randn(6, 48, 1), torch.randn(6, 12, 4))  # fp32 covariates, as a loader gives them
    assert seen == [torch.bfloat16]


@pytest.mark.parametrize("head", [Seq2SeqHead, DirectHead])
def test_frame_encoder_feeds_a_head(head):
    encoder = FrameEncoder(densenet_bc(depth=10, growth_rate=4, in_channels=2))
    frames = torch.randn(3, 5, 2, 16, 16)  # (B, T, C, H, W)
    features = encoder(frames)
    assert features.shape == (3, 5, encoder.out_features)
    out = head(encoder.out_features, out_channels=2, horizon=4, hidden_size=8)(
        features, torch.zeros(3, 2), torch.zeros(3, 4, 0))
    assert out.shape == (3, 4, 2, 1)


@pytest.mark.parametrize("name", ["densenet-lstm", "densenet2d-lstm", "resnet-lstm"])
@pytest.mark.parametrize("patch, stride", [(8, 8), (16, 8), (12, 4), (5, 3)])
@pytest.mark.parametrize("lookback", [37, 96, 336])
def test_patches_cover_the_newest_step_and_the_length_is_known(name, patch, stride, lookback):
    model = build_forecaster(name, 2, 2, 4, hidden_size=8, revin=False, patch=patch, patch_stride=stride,
                             lookback=lookback, highway=False).eval()
    x = torch.randn(2, lookback, 2)
    features = model.encoder(x)
    assert features.shape[1] == model.encoder.output_length(lookback)
    changed = x.clone()
    changed[:, -1] += 10  # the newest step always reaches the features
    assert not torch.allclose(model.encoder(changed)[:, -1], features[:, -1])


def test_stem_padding_by_hand():
    from forecast.models.encoders import stem_padding

    assert stem_padding(336, 8, 8, 2) == 0  # 42 patches, 21 after one pooling
    assert stem_padding(37, 8, 8, 2) == 11  # 48 steps: 6 patches
    assert stem_padding(336, 16, 8, 2) == 8  # 344 steps: 42 overlapping patches
    assert stem_padding(3, 8, 8, 2) == 13  # shorter than one patch: two patches of padding


def test_odd_lookbacks_keep_the_latest_steps():
    # a look-back that the patch stem does not divide must lose its oldest steps, never the newest
    model = build_forecaster("densenet-lstm", 1, 1, 4, hidden_size=8, revin=False).eval()
    x = torch.randn(2, 37, 1)
    changed = x.clone()
    changed[:, -1] += 10
    assert not torch.allclose(model(x, torch.zeros(2, 4, 0)), model(changed, torch.zeros(2, 4, 0)))


def test_baselines_by_hand():
    x = torch.tensor([[1.0, 2.0, 4.0, 3.0, 5.0, 6.0]]).unsqueeze(-1)  # (1, 6, 1)
    f = torch.zeros(1, 4, 0)
    assert Naive(1, 4)(x, f).flatten().tolist() == [6.0, 6.0, 6.0, 6.0]
    assert SeasonalNaive(1, 4, season=3)(x, f).flatten().tolist() == [3.0, 5.0, 6.0, 3.0]
    assert Drift(1, 4)(x, f).flatten().tolist() == [7.0, 8.0, 9.0, 10.0]  # slope (6 - 1) / 5
    dlinear = DLinear(6, 4, 1, kernel_size=3)
    torch.nn.init.zeros_(dlinear.trend.bias)
    torch.nn.init.zeros_(dlinear.remainder.bias)
    # both maps start at the look-back mean and trend + remainder = the series: its mean, 3.5
    assert torch.allclose(dlinear(x, f).flatten(), torch.full((4,), 3.5))
    dlinear.remainder.weight.data.zero_()
    # now the trend alone: the mean of the 3-step moving average with replicated ends
    trend = [(1 + 1 + 2) / 3, (1 + 2 + 4) / 3, (2 + 4 + 3) / 3, (4 + 3 + 5) / 3, (3 + 5 + 6) / 3,
             (5 + 6 + 6) / 3]
    assert torch.allclose(dlinear(x, f).flatten(), torch.full((4,), sum(trend) / 6))


def test_ridge_recovers_an_exact_linear_rule():
    torch.manual_seed(0)
    x = torch.randn(500, 8, 2)
    rule = torch.zeros(9, 3)
    rule[7, 0], rule[6, 1], rule[8, 2] = 1.0, -2.0, 0.5  # y1 = x_last, y2 = -2 x_prev, y3 = 0.5
    design = torch.cat([x.transpose(1, 2), torch.ones(500, 2, 1)], -1)
    y = (design @ rule).transpose(1, 2)
    batches = [{"x": x, "y": y}]
    model = RidgeLinear(8, 3, 2)
    assert model.fit(batches, batches, alphas=(1e-6,)) < 1e-8
    assert torch.allclose(model.weight, rule, atol=1e-4)


def test_one_batch_can_be_overfit():
    torch.manual_seed(0)
    model = build_forecaster("densenet-lstm", 2, 2, 8, head="direct", hidden_size=32, dropout=0.0,
                             revin=False)
    x, f, y = torch.randn(16, 32, 2), torch.zeros(16, 8, 0), torch.randn(16, 8, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(300):
        loss = torch.nn.functional.mse_loss(model(x, f), y)
        first = first or loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.02 * first


def test_pinball_loss_by_hand():
    forecast = torch.tensor([[1.0, 2.0, 3.0]])
    target = torch.tensor([2.5])
    # errors 1.5, 0.5, -0.5 at levels 0.1, 0.5, 0.9: 0.15, 0.25, 0.05
    assert torch.isclose(pinball_loss(forecast, target, [0.1, 0.5, 0.9]), torch.tensor(0.15))


def test_nan_loss_stops_training_with_the_epoch_and_step():
    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.ones(1))

        def forward(self, x, f, y=None, teacher_forcing=0.0):
            return torch.full((len(x), 4, 1), float("nan")) * self.weight

    module = ForecastingModule(Broken(), [0.0], [1.0])

    class Trainer:
        max_epochs, current_epoch, global_step = 3, 0, 0
    module._trainer = Trainer()
    batch = {"x": torch.zeros(2, 8, 1), "f": torch.zeros(2, 4, 0), "y": torch.zeros(2, 4, 1)}
    with pytest.raises(FloatingPointError, match="training loss became nan at epoch 0, step 0"):
        module.training_step(batch, 0)


def test_revin_round_trip_is_exact():
    model = EncoderLSTM(torch.nn.Identity(), torch.nn.Identity(), in_channels=3, out_channels=3)
    x = torch.randn(4, 20, 3) * 5 + 7
    mean, std = model.revin.statistics(x)
    normed = model.revin.normalize(x, mean, std)
    assert torch.allclose(normed.mean(1), torch.zeros(4, 3), atol=1e-5)
    assert torch.allclose(model.revin.denormalize(normed, mean, std), x, atol=1e-4)
    assert np.isclose(float(normed.detach().std(1, unbiased=False).mean()), 1.0, atol=1e-3)


def test_seq2seq_feeds_back_the_same_kind_of_value_in_training_and_inference():
    # The decoder reads its previous forecast (base + correction) at inference and the truth under
    # teacher forcing. When the truth equals the forecast, both must give the same output.
    torch.manual_seed(0)
    head = Seq2SeqHead(4, out_channels=1, horizon=5, hidden_size=8).eval()
    torch.nn.init.normal_(head.output.linear.weight, std=0.5)  # a trained head, not a fresh one
    features, last = torch.randn(3, 7, 4), torch.randn(3, 1)
    future, base = torch.zeros(3, 5, 0), torch.randn(3, 5, 1) * 3
    free = head(features, last, future, base=base)
    truth = free[..., 0] + base  # what the network outputs: the correction plus the base
    forced = head(features, last, future, truth, teacher_forcing=1.0, base=base)
    assert torch.allclose(free, forced, atol=1e-6)
    without_base = head(features, last, future, free[..., 0], teacher_forcing=1.0, base=base)
    assert not torch.allclose(free, without_base, atol=1e-3)
