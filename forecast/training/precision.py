"""Which precision to compute in: bf16 where this hardware has the units for it and it pays,
fp32 elsewhere; for training and for forecasting. Torch only, so that forecasting without
training imports no Lightning."""

from __future__ import annotations

import functools
from pathlib import Path

import torch


@functools.cache  # read once a process, not once a fit
def cpu_bf16_units() -> tuple[str, ...]:
    """This CPU's bf16 arithmetic units, as /proc/cpuinfo names them (none where it cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return ()
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return tuple(unit for unit in ("avx512_bf16", "amx_bf16") if unit in flags)


def on_gpu(accelerator: str) -> bool:
    """Whether a Trainer for ``accelerator`` trains on a CUDA GPU."""
    return accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()


def default_precision(accelerator: str, channel_independent: bool = False) -> str:
    """bf16 mixed precision on GPUs that support it, and on CPUs with bf16 units (AVX512-BF16 or
    AMX) for channel-independent networks; full fp32 elsewhere. On the CPU only channel-independent
    windows (a sample per channel) make matrix products large enough for the bf16 units to pay: the
    tuned configuration trained 1.22-1.31x as fast with AMX and a Weather-96 fit ran 1.29-1.45x as
    fast; on an AMD EPYC with AVX512-BF16 and no AMX a one-epoch fit ran 1.36x as fast. Both at level
    accuracy, where the mixed-channel defaults, whose time goes to the seq2seq decoder's step-by-step
    LSTM, gained nothing (0.98x on that AMD; experiments/verdicts/train_speed.md, ablation.md)."""
    if on_gpu(accelerator):
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "32-true"
    return "bf16-mixed" if channel_independent and cpu_bf16_units() else "32-true"


def inference_precision(precision: str | None, channel_independent: bool = False) -> str:
    """The precision a trained network forecasts in on this CPU: bf16 autocast where a fit on this
    CPU chooses it by default (so validation chose the network in it too) and the run named no
    other precision; fp32 elsewhere."""
    chosen = default_precision("cpu", channel_independent)
    return chosen if precision in (None, chosen) else "32-true"
