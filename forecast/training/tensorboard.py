"""TensorBoard extras of a fit: the learning rate, and a forecast-against-actual figure per epoch."""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


class ForecastFigure(L.Callback):
    """After each validation epoch, the forecast of the first validation window against its actual
    values (first target, normalized scale) as a figure in the TensorBoard log."""

    def on_validation_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.global_rank != 0 or trainer.datamodule is None:
            return
        windows = trainer.datamodule.datasets.get("val")
        if windows is None or not len(windows):
            return
        batch = next(iter(windows.loader(1)))
        with torch.no_grad():
            forecast = module.model(batch["x"].to(module.device), batch["f"].to(module.device)).float().cpu()
        figure = Figure(figsize=(6, 3))  # not pyplot's: the caller's backend and figures stay as they are
        axes = figure.subplots()
        axes.plot(batch["y"][0, :, 0].numpy(), color="black", label="actual")
        axes.plot(forecast[0, :, 0].numpy(), label="forecast")  # with quantiles: one line per level
        axes.set_title(f"first validation window, epoch {trainer.current_epoch + 1}")
        axes.legend(fontsize=7)
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        image = np.asarray(canvas.buffer_rgba())[..., :3]
        trainer.logger.experiment.add_image("forecast/first_validation_window", image,
                                            global_step=trainer.current_epoch, dataformats="HWC")
