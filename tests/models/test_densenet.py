import urllib.error

import pytest
import torch
import torchvision

from forecast.errors import DownloadError
from forecast.models import image
from forecast.models.densenet import DenseBlock, DenseLayer, DenseStack, Transition
from forecast.models.encoders import DenseNet1D, stem_padding
from forecast.models.image import densenet121, densenet161, densenet169, densenet201, densenet_bc
from forecast.models.resnet import resnet18


@pytest.mark.parametrize("dim, shape", [(1, (4, 6, 40)), (2, (4, 6, 12, 16))])
def test_block_and_transition_shapes(dim, shape):
    block = DenseBlock(num_layers=3, in_channels=6, growth_rate=5, bn_size=2, dim=dim)
    x = torch.randn(*shape)
    out = block(x)
    assert out.shape == (shape[0], 6 + 3 * 5, *shape[2:])
    assert torch.equal(out[:, :6], x), "a dense block passes its input through unchanged"
    down = Transition(21, 10, dim=dim)(out)
    assert down.shape == (shape[0], 10, *(s // 2 for s in shape[2:]))


def test_transition_can_pool_along_time_only():
    x = torch.randn(2, 8, 7, 32)  # (batch, channels, variables, time)
    out = Transition(8, 4, dim=2, pool=(1, 2))(x)
    assert out.shape == (2, 4, 7, 16)


def test_stack_compresses_with_floor_theta():
    stack = DenseStack(16, (2, 3), growth_rate=5, compression=0.5, dim=1)
    # block 1: 16 + 2*5 = 26 -> transition floor(13) -> block 2: 13 + 3*5 = 28
    assert stack.transition1.conv.out_channels == 13 and stack.out_channels == 28
    assert DenseStack(16, (1, 1), growth_rate=5, compression=0.3, dim=1).transition1.conv.out_channels == 6


@pytest.mark.parametrize("dim", [1, 2])
def test_memory_efficient_path_matches_the_standard_one(dim):
    torch.manual_seed(0)
    shape = (3, 8, 24) if dim == 1 else (3, 8, 10, 12)
    standard = DenseStack(8, (3, 2), growth_rate=4, bn_size=2, dim=dim)
    efficient = DenseStack(8, (3, 2), growth_rate=4, bn_size=2, dim=dim, memory_efficient=True)
    efficient.load_state_dict(standard.state_dict())
    x = torch.randn(*shape, dtype=torch.float64)
    standard, efficient = standard.double().train(), efficient.double().train()
    inputs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    outputs = [net(i) for net, i in zip((standard, efficient), inputs)]
    weights = torch.randn_like(outputs[0])
    for out in outputs:
        (out * weights).sum().backward()
    assert torch.allclose(outputs[0], outputs[1], atol=1e-12)
    assert torch.allclose(inputs[0].grad, inputs[1].grad, atol=1e-12)
    for (name, p), q in zip(standard.named_parameters(), efficient.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-12), name
    # the recomputation in backward must not update BatchNorm's running statistics again
    for (name, a), b in zip(standard.named_buffers(), efficient.buffers()):
        assert torch.equal(a, b), name
    standard.eval(), efficient.eval()
    assert torch.allclose(standard(x), efficient(x), atol=1e-12)


def test_densenet1d_on_a_row_map_computes_what_1d_kernels_compute():
    """DenseNet1D runs as a channels-last map one row high for speed; with the same weights, a
    stack on Conv1d/BatchNorm1d gives the same features, input gradients and running statistics."""
    torch.manual_seed(0)
    encoder = DenseNet1D(3, patch=4, patch_stride=2, block_config=(2, 2), growth_rate=4).double().train()
    stem = torch.nn.Conv1d(3, 32, kernel_size=4, stride=2).double()
    stack = DenseStack(32, (2, 2), growth_rate=4, dim=1, pool=2).double().train()
    norm = torch.nn.BatchNorm1d(stack.out_channels).double()
    for prefix, module in (("stem.conv.", stem), ("stack.", stack), ("norm.", norm)):
        module.load_state_dict({name.removeprefix(prefix): value.squeeze(2) if value.dim() == 4 else value
                                for name, value in encoder.state_dict().items() if name.startswith(prefix)})
    x = torch.randn(5, 31, 3, dtype=torch.float64)
    inputs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    ours = encoder(inputs[0])
    assert stem_padding(31, 4, 2, 2) == 3
    padded = torch.nn.functional.pad(inputs[1].transpose(1, 2), (3, 0), mode="replicate")
    reference = torch.relu(norm(stack(stem(padded)))).transpose(1, 2)
    assert ours.shape == reference.shape == (5, encoder.output_length(31), stack.out_channels)
    assert torch.allclose(ours, reference, atol=1e-12)
    weights = torch.randn_like(ours)
    (ours * weights).sum().backward()
    (reference * weights).sum().backward()
    assert torch.allclose(inputs[0].grad, inputs[1].grad, atol=1e-12)
    assert torch.allclose(encoder.stack.denseblock2.denselayer2.norm1.running_var,
                          stack.denseblock2.denselayer2.norm1.running_var, atol=1e-12)
    assert encoder.stack.denseblock1.denselayer1.conv2.kernel_size == (1, 3)


def test_densenet1d_hands_its_final_norm_a_channels_last_gradient_behind_an_lstm():
    """Under bf16 autocast the LSTM's (oneDNN's) input gradient comes back time-major; handed on
    so, the ReLU's backward gives the norm a gradient of odd strides, on which oneDNN's
    batch-norm backward takes a path ten times as slow."""
    encoder = DenseNet1D(1, patch=16, patch_stride=8, block_config=(2, 2), growth_rate=4).train()
    lstm = torch.nn.LSTM(encoder.out_features, 8, batch_first=True)
    seen = []

    def watch(module, inputs, output):
        output.register_hook(seen.append)

    encoder.norm.register_forward_hook(watch)
    with torch.autocast("cpu", torch.bfloat16):
        features = lstm(encoder(torch.randn(6, 336, 1)))[0]
    features.float().sum().backward()
    packed = torch.empty(seen[0].shape).contiguous(memory_format=torch.channels_last)
    assert seen[0].stride() == packed.stride()


def test_dropout_is_applied_only_in_training():
    layer = DenseLayer(4, growth_rate=6, drop_rate=0.5, dim=1).train()
    out = layer(torch.randn(8, 4, 30))
    assert (out == 0).float().mean() > 0.3
    assert (layer.eval()(torch.randn(8, 4, 30)) == 0).float().mean() < 0.3


@pytest.mark.parametrize("ours, theirs, count", [
    (densenet121, torchvision.models.densenet121, 7_978_856),
    (densenet169, torchvision.models.densenet169, 14_149_480),
    (densenet201, torchvision.models.densenet201, 20_013_928),
    (densenet161, torchvision.models.densenet161, 28_681_000),
])
def test_parameter_counts_equal_torchvision(ours, theirs, count):
    assert sum(p.numel() for p in ours().parameters()) == count
    assert sum(p.numel() for p in theirs(weights=None).parameters()) == count


def test_torchvision_state_dict_loads_strictly_and_gives_identical_logits():
    torch.manual_seed(0)
    theirs = torchvision.models.densenet121(weights=None).eval()
    ours = densenet121().eval()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(ours(x), theirs(x))
        assert ours.features(x).shape == (2, 1024)


def test_pre_0_4_layer_names_are_renamed_on_load():
    theirs = torchvision.models.densenet121(weights=None)
    # as in torchvision's hosted files: "norm.1"-style names and no num_batches_tracked buffers
    old = {key.replace("denselayer1.norm1.", "denselayer1.norm.1."): value
           for key, value in theirs.state_dict().items() if not key.endswith("num_batches_tracked")}
    assert "features.denseblock1.denselayer1.norm.1.weight" in old
    densenet121().load_state_dict(old, strict=True)


def test_pretrained_offline_is_one_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(DownloadError, match=r"pretrained densenet121 weights could not be fetched "
                                            r"from https://download.pytorch.org/.*pretrained=False"):
        image.densenet121(pretrained=True)


def test_densenet_bc_for_32x32_inputs():
    model = densenet_bc(100, 12, num_classes=10)
    # "0.8M" in the paper: 16 layers per block, growth 12, compression 0.5, 342 features
    assert sum(p.numel() for p in model.parameters()) == 769_162
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert model.features(torch.randn(2, 3, 32, 32)).shape == (2, 342)
    with pytest.raises(ValueError, match="6n \\+ 4"):
        densenet_bc(99)


def test_resnet18_size_and_shapes():
    model = resnet18(num_classes=10, in_channels=1, small_inputs=True)
    assert sum(p.numel() for p in model.parameters()) == 11_172_810
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    assert resnet18()(torch.randn(1, 3, 64, 64)).shape == (1, 1000)
