"""One call that makes a run repeatable."""

from __future__ import annotations

import lightning as L


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (DataLoader workers too). Deterministic kernels are a
    Trainer setting (``make_trainer(deterministic=...)``), scoped to the fit."""
    L.seed_everything(seed, workers=True, verbose=False)
