"""DenseNet-BC against ResNet-18 on the digits."""
