"""Where a fit's time goes: Lightning's SimpleProfiler's records summed into the parts of an epoch, and
each training step's time."""

from __future__ import annotations

from lightning.pytorch.profilers import SimpleProfiler

PHASES = ("data", "forward", "backward", "optimizer", "validation", "checkpointing", "hooks and logging")


def epoch_phases(profiler: SimpleProfiler) -> dict[str, float]:
    """Seconds of the training epochs by part. ``optimizer`` is the optimizer step without the
    forward and backward it runs as its closure (gradient zeroing and clipping included);
    ``validation`` the validation batches and their loading; ``hooks and logging`` what the
    epochs took besides (callbacks, metrics, the loop itself)."""
    spent = {name: sum(durations) for name, durations in profiler.recorded_durations.items()}

    def total(*parts: str, ending: str = "") -> float:
        return sum(seconds for name, seconds in spent.items()
                   if any(part in name for part in parts) and name.endswith(ending))

    forward = total("training_step", ending=".training_step")
    backward = total(".backward", ending=".backward")
    phases = {
        "data": total("train_dataloader_next"),
        "forward": forward,
        "backward": backward,
        "optimizer": total("[LightningModule]", ending=".optimizer_step") - forward - backward,
        "validation": total("val_next") + total("validation_step", ending=".validation_step"),
        "checkpointing": spent.get("save_checkpoint", 0.0),
    }
    phases["hooks and logging"] = spent.get("run_training_epoch", 0.0) - sum(phases.values())
    return phases


def step_durations(profiler: SimpleProfiler) -> list[float]:
    """Seconds of each training step: its forward, backward, clipping and optimizer step, without
    fetching its batch or the hooks around it. A median of these is robust to the drift of a
    shared host and to an epoch's fixed costs, which a whole epoch's time carries."""
    return list(profiler.recorded_durations.get("run_training_batch", []))
