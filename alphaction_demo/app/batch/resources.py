"""How many workers a batch starts and how many threads each one uses, when the user does not say.

With GPUs: one worker per GPU, since a video keeps a GPU busy and two models on one GPU only
share it. On the CPU: a video's pipeline does not keep many cores busy by itself (the action
model runs one small clip at a time, and its stages wait on each other), while whole videos are
independent, so a core is worth more running another video than adding threads to one clip.
On this project's 2-core machine two workers of one thread annotated 3.63 videos a minute
against 2.51 for one worker of two threads (README: Many videos). Hence at least two workers
when there are two cores, and one worker per 4 cores on larger machines, where each worker's
memory (a model and its clips) starts to count; each gets an equal share of the cores.
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
            jobs = max(min(2, cores), cores // THREADS_PER_JOB)
    if not threads:
        threads = max(1, cores // jobs)
    return Budget(jobs=jobs, threads=threads, gpus=gpus)
