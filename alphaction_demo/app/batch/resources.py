"""How many workers a batch starts and how many threads each one uses, when the user does not say.

With GPUs: one worker per GPU, since a video keeps a GPU busy and two models on one GPU only
share it. On the CPU: the action model runs one clip at a time (batch size 1, a few dozen small
frames), and PyTorch's convolutions on such a clip stop gaining much beyond about four threads,
while the pipeline's other stages (decoding, detection, drawing, encoding) need cores of their
own. Whole videos, on the other hand, are independent: a core is worth more running another
video than adding a fifth thread to one clip. Hence cores // 4 workers of cores // workers
threads each, and a single worker with every core on small machines (2-4 cores), where two
half-size workers measured no faster (README: Many videos).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

THREADS_PER_JOB = 4


def usable_cores() -> int:
    """Cores this process may run on (a container's or taskset's limit, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def cuda_devices(device: str) -> int:
    if not device.startswith("cuda"):
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@dataclass(frozen=True)
class Budget:
    jobs: int
    threads: int  # torch and OpenCV threads per worker
    gpus: int


def plan_budget(device: str, jobs: int = 0, threads: int = 0) -> Budget:
    """`jobs`/`threads` 0: chosen for the machine (see the module docstring)."""
    cores, gpus = usable_cores(), cuda_devices(device)
    if not jobs:
        if device.startswith("cuda:"):
            jobs = 1  # the user named one GPU
        elif gpus:
            jobs = gpus
        else:
            jobs = max(1, cores // THREADS_PER_JOB)
    if not threads:
        threads = max(1, cores // jobs)
    return Budget(jobs=jobs, threads=threads, gpus=gpus)
