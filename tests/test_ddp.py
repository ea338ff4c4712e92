import json
import subprocess
import sys
from pathlib import Path

import torch

from forecast.training.trainer import make_trainer

sys.path.insert(0, str(Path(__file__).parent))
from ddp_worker import setup  # noqa: E402


def test_two_process_ddp_trains_and_validates_like_one_process(tmp_path):
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "ddp_worker.py"), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "metrics.json").read_text())
    assert result["world_size"] == 2 and result["val_windows"] == 131

    data, module = setup()
    module.load_state_dict(torch.load(tmp_path / "weights.pt", weights_only=True))
    single = make_trainer(accelerator="cpu", devices=1, log_dir=None, progress=False, patience=None)
    alone = single.validate(module, data, verbose=False)[0]["val_mse"]
    # every window counted exactly once: the two-process metric is the one-process metric
    assert abs(result["val_mse"] - alone) <= 1e-6 * abs(alone), (result["val_mse"], alone)
