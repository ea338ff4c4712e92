"""DenseNet-121 training step (forward, backward, SGD step), batch 32 at 224x224: ours against
torchvision in the same process, memory-efficient mode against the standard one, and on a GPU
bf16 autocast + channels_last against torchvision's fp32 default.

    python -m experiments.bench.densenet --device cpu   (or cuda, or cuda --compile)

Writes records to the records' densenet.jsonl (tables speed and memory), the device as the budget.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch
import torchvision

from forecast.models.image import densenet121

from experiments import records


def make(kind: str, memory_efficient: bool = False) -> torch.nn.Module:
    if kind == "torchvision":
        return torchvision.models.densenet121(weights=None, memory_efficient=memory_efficient)
    return densenet121(memory_efficient=memory_efficient)


class Setup:
    """One model, its optimizer and a fixed random batch, ready to take training steps."""

    def __init__(self, kind, device, batch, size, memory_efficient=False, bf16=False,
                 channels_last=False, compile_mode=None):
        torch.manual_seed(0)
        self.kind, self.memory_efficient = kind, memory_efficient
        self.device = torch.device(device)
        layout = torch.channels_last if channels_last else torch.contiguous_format
        self.model = make(kind, memory_efficient).to(self.device, memory_format=layout).train()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.images = torch.randn(batch, 3, size, size, device=self.device).to(memory_format=layout)
        self.labels = torch.randint(0, 1000, (batch,), device=self.device)
        self.bf16 = bf16
        # reduce-overhead: fused kernels replayed as CUDA graphs, which removes launch overhead
        self.forward = torch.compile(self.model, mode=compile_mode) if compile_mode else self.model
        self.warmup = 5 if compile_mode else 2  # graphs are recorded on the third call

    def step(self) -> None:
        autocast = torch.autocast(self.device.type, torch.bfloat16) if self.bf16 else nullcontext()
        with autocast:
            loss = torch.nn.functional.cross_entropy(self.forward(self.images), self.labels)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()


def throughput(setups: dict[str, Setup], steps: int, rounds: int) -> dict[str, float]:
    """Images/s of each setup: rounds interleave the setups so drift hits all alike; median."""
    for setup in setups.values():
        for _ in range(setup.warmup):
            setup.step()
        setup.sync()
    seconds = {name: [] for name in setups}
    for _ in range(rounds):
        for name, setup in setups.items():
            setup.sync()
            start = time.perf_counter()
            for _ in range(steps):
                setup.step()
            setup.sync()
            seconds[name].append((time.perf_counter() - start) / steps)
    batch = len(next(iter(setups.values())).images)
    return {name: batch / statistics.median(s) for name, s in seconds.items()}


def peak_activation_mib(setup: Setup) -> float:
    """Peak memory of one training step above what model, optimizer state and batch hold."""
    setup.step()  # creates the optimizer's momentum buffers
    if setup.device.type == "cuda":
        setup.sync()
        torch.cuda.reset_peak_memory_stats()
        resident = torch.cuda.memory_allocated()
        setup.step()
        setup.sync()
        return (torch.cuda.max_memory_allocated() - resident) / 2**20
    # CPU: the allocator keeps freed blocks, so only a fresh process shows a step's peak
    command = [sys.executable, "-m", __spec__.name, "--peak-child", setup.kind, "--device", "cpu",
               "--batch", str(len(setup.images)), "--size", str(setup.images.shape[-1])]
    if setup.memory_efficient:
        command.append("--memory-efficient")
    return float(subprocess.run(command, capture_output=True, text=True, check=True,
                                cwd=records.REPOSITORY).stdout.split()[-1])


def peak_child(kind: str, memory_efficient: bool, batch: int, size: int) -> None:
    """In a fresh process: RSS peak of a first step above RSS before it, less the gradients and
    momentum buffers that the step creates (two floats per parameter)."""
    setup = Setup(kind, "cpu", batch, size, memory_efficient=memory_efficient)
    state = 2 * sum(p.numel() * p.element_size() for p in setup.model.parameters()) / 2**20
    Path("/proc/self/clear_refs").write_text("5")  # Linux: reset the RSS high-water mark
    resident = _status_mib("VmRSS")
    setup.step()
    print(_status_mib("VmHWM") - resident - state)


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=None, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=None)
    records.add_records_option(parser)
    parser.add_argument("--compile", action="store_true",
                        help="GPU: time ours bf16 + channels_last under torch.compile(mode='reduce-overhead')")
    parser.add_argument("--peak-child", choices=["ours", "torchvision"], help=argparse.SUPPRESS)
    parser.add_argument("--memory-efficient", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak_child:
        return peak_child(args.peak_child, args.memory_efficient, args.batch, args.size)
    cuda = args.device == "cuda"
    steps = args.steps or (20 if cuda else 1)
    rounds = args.rounds or (5 if cuda else 3)
    if cuda:
        torch.backends.cudnn.benchmark = True
    wall = time.perf_counter()

    if args.compile:
        return compiled(args, steps, rounds, wall)
    rates = throughput({"torchvision fp32": Setup("torchvision", args.device, args.batch, args.size),
                        "ours fp32": Setup("ours", args.device, args.batch, args.size)}, steps, rounds)
    memory = {}
    for efficient in (False, True):
        for kind in ("ours", "torchvision"):
            setup = Setup(kind, args.device, args.batch, args.size, memory_efficient=efficient)
            memory[(kind, efficient)] = peak_activation_mib(setup)
            del setup
            if cuda:
                torch.cuda.empty_cache()
    if cuda:
        rates.update(throughput({
            "ours memory-efficient fp32": Setup("ours", args.device, args.batch, args.size, memory_efficient=True),
            "ours bf16 autocast + channels_last": Setup("ours", args.device, args.batch, args.size,
                                                        bf16=True, channels_last=True),
            "torchvision bf16 autocast + channels_last": Setup("torchvision", args.device, args.batch,
                                                               args.size, bf16=True, channels_last=True),
        }, steps, rounds))

    reference = rates["torchvision fp32"]
    facts = {**records.provenance(args.device), "run_wall_s": round(time.perf_counter() - wall),
             "timing": f"median of {rounds} interleaved rounds of {steps} steps after 2 warm-up steps",
             "memory": ("torch.cuda.max_memory_allocated during one step minus what was allocated "
                        "before it (weights, gradients, momentum, batch)" if cuda else
                        "in a fresh process, RSS high-water mark of the first step minus RSS before "
                        "it and minus the gradients and momentum buffers it creates")}
    cell = dict(dataset=f"random images, batch {args.batch}, {args.size}x{args.size}", budget=facts["device"])
    written = [records.record("densenet", name, {"images/s": rate, "vs torchvision fp32": rate / reference},
                              table="speed", **cell, **facts) for name, rate in rates.items()]
    for kind in ("ours", "torchvision"):
        standard, efficient = memory[(kind, False)], memory[(kind, True)]
        written.append(records.record("densenet", kind, {"standard MiB": standard, "memory-efficient MiB": efficient,
                                                         "efficient / standard": efficient / standard},
                                      table="memory", **cell, **facts))
    print(f"records: {records.save('densenet', written, args.records)}")


def compiled(args, steps: int, rounds: int, wall: float) -> None:
    """The GPU fast path: bf16 autocast + channels_last, compiled and replayed as CUDA graphs."""
    fast = "ours bf16 autocast + channels_last + torch.compile(mode='reduce-overhead')"
    start = time.perf_counter()
    setups = {"torchvision fp32": Setup("torchvision", args.device, args.batch, args.size),
              fast: Setup("ours", args.device, args.batch, args.size, bf16=True,
                          channels_last=True, compile_mode="reduce-overhead")}
    rates = throughput(setups, steps, rounds)
    reference = rates["torchvision fp32"]
    facts = {**records.provenance(args.device), "run_wall_s": round(time.perf_counter() - wall),
             "timing": f"median of {rounds} interleaved rounds of {steps} steps after warm-up "
                       "(compiled: 5 warm-up steps, which include compiling)",
             "compile_and_warmup_s": round(time.perf_counter() - start)}
    cell = dict(dataset=f"random images, batch {args.batch}, {args.size}x{args.size}",
                budget=facts["device"] + ", compiled")
    written = [records.record("densenet", name, {"images/s": rate, "vs torchvision fp32": rate / reference},
                              table="speed", **cell, **facts) for name, rate in rates.items()]
    print(f"records: {records.save('densenet', written, args.records)}")

if __name__ == "__main__":
    main()
