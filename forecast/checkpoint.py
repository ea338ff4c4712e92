"""The model file: one torch.save'd dict of plain values, loaded with ``weights_only=True``."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from forecast import __version__
from forecast.atomic import write_atomically
from forecast.errors import DataError

# /3: the DenseNet-LSTM encoder's weights became 2D (one row high); /2 files no longer load
FORMAT = "densenet-forecast/3"
KEYS = ("params", "schema", "state_dict", "scalers")


def save_checkpoint(path: str | os.PathLike, contents: dict) -> Path:
    """Write ``contents`` (the keys of KEYS) with the format tag and package version, atomically."""
    checkpoint = {"format": FORMAT, "version": __version__, **contents}
    return write_atomically(path, lambda temporary: torch.save(checkpoint, temporary))


def load_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint's dict; a DataError naming the file for anything that is not one of ours."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no such model file") from None
    except Exception as error:  # a corrupt file raises anything from pickle to zipfile errors
        raise DataError(f"{path}: not a forecast model file ({type(error).__name__})") from None
    if not isinstance(checkpoint, dict) or not str(checkpoint.get("format", "")).startswith("densenet-forecast/"):
        raise DataError(f"{path}: not a forecast model file (format {FORMAT} expected)")
    if checkpoint["format"] != FORMAT:
        raise DataError(f"{path}: written by forecast {checkpoint.get('version', '?')} in format "
                        f"{checkpoint['format']}; this version reads {FORMAT}: fit the model again")
    missing = [key for key in KEYS if key not in checkpoint]
    if missing:
        raise DataError(f"{path}: damaged model file (no '{missing[0]}')")
    return checkpoint
