"""One call that makes a run repeatable."""

from __future__ import annotations

import lightning as L
import torch


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (DataLoader workers too); deterministic algorithms on CPU."""
    L.seed_everything(seed, workers=True, verbose=False)
    if not torch.cuda.is_available():
        torch.use_deterministic_algorithms(True)
