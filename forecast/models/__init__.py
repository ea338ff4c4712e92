"""Neural networks: DenseNet blocks, image backbones, forecasting encoders and heads."""
