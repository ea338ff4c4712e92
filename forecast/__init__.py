"""forecast: time-series forecasting with DenseNet feature extractors and LSTM heads."""

__version__ = "0.1.0"
