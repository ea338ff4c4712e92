import lightning as L
import pytest

from forecast.data.images import DigitsDataModule, TorchvisionDataModule
from forecast.errors import DataError, DownloadError
from forecast.models.image import densenet_bc
from forecast.training.classification import ImageClassifier


def test_digits_split_is_stratified_and_standardised():
    data = DigitsDataModule(seed=1)
    data.setup()
    sizes = {part: len(d) for part, d in data.parts.items()}
    assert sizes == {"train": 1257, "val": 180, "test": 360}
    train_images = data.parts["train"].tensors[0]
    assert train_images.shape[1:] == (1, 8, 8)
    assert abs(float(train_images.mean())) < 1e-5 and abs(float(train_images.std()) - 1) < 1e-3
    assert set(data.parts["test"].tensors[1].bincount().tolist()) <= {35, 36, 37}


def test_a_small_densenet_learns_digits():
    L.seed_everything(0)
    model = densenet_bc(depth=22, growth_rate=12, num_classes=10, in_channels=1)
    module = ImageClassifier(model, lr=0.1, label_smoothing=0.1)
    trainer = L.Trainer(max_epochs=4, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    data = DigitsDataModule(batch_size=64)
    trainer.fit(module, data)
    accuracy = trainer.test(module, data, verbose=False)[0]["test_acc"]
    assert accuracy > 0.9, f"test accuracy {accuracy:.3f}; chance is 0.1"


def test_torchvision_sets_fail_clearly(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="unknown image dataset 'mnist'"):
        TorchvisionDataModule("mnist", tmp_path)
    with pytest.raises(DataError, match="no such image folder"):
        TorchvisionDataModule("imagefolder", tmp_path / "absent").setup()
    from torchvision import datasets

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")
    monkeypatch.setattr(datasets, "FashionMNIST", offline)
    with pytest.raises(DownloadError, match="fashionmnist is not in .* could not be downloaded"):
        TorchvisionDataModule("fashionmnist", tmp_path).setup()
