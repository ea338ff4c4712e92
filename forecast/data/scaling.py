"""Per-channel scalers (standard, robust, min-max) whose whole state is two plain arrays."""

from __future__ import annotations

from typing import Literal

import numpy as np

ScalerKind = Literal["standard", "robust", "minmax", "none"]


class Scaler:
    """``(x - center) / scale`` per channel; fit on training rows only; state is plain arrays.

    standard: mean and population std (as scikit-learn's StandardScaler); robust: median and
    inter-quartile range (RobustScaler); minmax: min and range, mapping training rows to [0, 1]
    (MinMaxScaler). A constant channel gets scale 1, as in scikit-learn.
    """

    def __init__(self, kind: ScalerKind = "standard"):
        if kind not in ("standard", "robust", "minmax", "none"):
            raise ValueError(f"scaler must be standard, robust, minmax or none, not {kind!r}")
        self.kind = kind
        self.center: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, rows: np.ndarray) -> Scaler:
        """Fit on ``rows`` of shape (T, C): the training rows and nothing else."""
        # one memory layout, so equal rows give bit-equal statistics whatever their source
        rows = np.ascontiguousarray(rows, dtype=np.float64)
        if rows.ndim != 2 or len(rows) == 0:
            raise ValueError(f"scaler needs a non-empty (rows, channels) array, got {rows.shape}")
        if self.kind == "standard":
            center, scale = rows.mean(axis=0), rows.std(axis=0)
        elif self.kind == "robust":
            q25, center, q75 = np.percentile(rows, [25, 50, 75], axis=0)
            scale = q75 - q25
        elif self.kind == "minmax":
            center = rows.min(axis=0)
            scale = rows.max(axis=0) - center
        else:
            center, scale = np.zeros(rows.shape[1]), np.ones(rows.shape[1])
        self.center = center
        self.scale = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale values whose last axis is the channel axis."""
        self._check_fitted()
        return (values - self.center) / self.scale

    def inverse_transform(self, values: np.ndarray, axis: int = -1) -> np.ndarray:
        """Undo :meth:`transform`; ``axis`` is the channel axis (the last by default)."""
        self._check_fitted()
        shape = [1] * values.ndim
        shape[axis] = -1
        return values * self.scale.reshape(shape) + self.center.reshape(shape)

    def subset(self, channels: list[int]) -> Scaler:
        """The scaler of some channels only (e.g. the targets among all inputs)."""
        self._check_fitted()
        return Scaler.from_state({"kind": self.kind, "center": self.center[channels],
                                  "scale": self.scale[channels]})

    def state(self) -> dict:
        """Plain values that :meth:`from_state` restores (safe for ``torch.load(weights_only=True)``)."""
        self._check_fitted()
        return {"kind": self.kind, "center": self.center.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> Scaler:
        scaler = cls(state["kind"])
        scaler.center = np.asarray(state["center"], dtype=np.float64)
        scaler.scale = np.asarray(state["scale"], dtype=np.float64)
        return scaler

    def _check_fitted(self) -> None:
        if self.center is None:
            raise RuntimeError("scaler is not fitted; call fit() on the training rows first")
