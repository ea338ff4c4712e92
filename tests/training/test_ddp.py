import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("mode, channels", [("mixed", [-1]), ("independent", [0, 1])])
def test_forecaster_ddp_shards_training_and_validates_like_one_process(tmp_path, mode, channels):
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "ddp_worker.py"), str(tmp_path), mode],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "metrics.json").read_text())
    shards = [[tuple(sample) for sample in json.loads((tmp_path / f"train-rank{rank}.json").read_text())]
              for rank in (0, 1)]
    # disjoint shards whose union is every training sample (each channel of each window when
    # channel-independent), none repeated
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == [(w, c) for w in range(result["train_windows"]) for c in channels]
    assert abs(len(shards[0]) - len(shards[1])) <= 1
    # every validation window counted exactly once: the DDP metric is the one-process metric
    assert result["val_windows"] == 131
    assert result["ddp_val_mse"] == pytest.approx(result["one_process_val_mse"], rel=1e-5)


@pytest.mark.parametrize("windows, batch_size", [(131, 32), (64, 32), (65, 32), (7, 100), (5, 2)])
def test_shard_batches_are_disjoint_complete_and_of_equal_count(windows, batch_size):
    from forecast.data.datamodule import ShardBatches

    for epoch in (0, 1):
        shards = []
        for rank in (0, 1):
            sampler = ShardBatches(windows, batch_size, rank, 2, seed=5)
            sampler.set_epoch(epoch)
            batches = list(sampler)
            assert len(batches) == len(sampler) and all(1 <= len(b) <= batch_size for b in batches)
            shards.append(batches)
        assert len(shards[0]) == len(shards[1])  # DDP's gradient exchange needs equal step counts
        seen = [w for shard in shards for batch in shard for w in batch]
        assert sorted(seen) == list(range(windows))
    first = [w for batch in ShardBatches(131, 32, 0, 2, seed=5) for w in batch]
    later = ShardBatches(131, 32, 0, 2, seed=5)
    later.set_epoch(1)
    assert first != [w for batch in later for w in batch]  # a new shuffle each epoch


def test_shard_batches_skip_the_batches_of_an_epoch_already_trained_on():
    from forecast.data.datamodule import ShardBatches

    whole = list(ShardBatches(131, 16, 0, 1, seed=5))
    assert list(ShardBatches(131, 16, 0, 1, seed=5, done=lambda: 3)) == whole[3:]
    for out_of_range in (0, len(whole)):  # an epoch that begins, or one that ended: all its batches
        assert list(ShardBatches(131, 16, 0, 1, seed=5, done=lambda: out_of_range)) == whole
