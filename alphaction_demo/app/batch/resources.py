"""How many workers a batch starts and how many threads each one uses, when the user does not say.

With GPUs: one worker per GPU, since a video keeps a GPU busy and two models on one GPU only
share it. On the CPU: a video's pipeline does not keep many cores busy by itself (the action
model runs one small clip at a time, and its stages wait on each other), while whole videos are
independent, so a core is worth more running another video than adding threads to one clip.
On this project's 2-core machine two workers of one thread annotated 1.93 videos a minute
against 1.76 for one worker of two threads (README: Many videos). Hence at least two workers
when there are two cores, and one worker per 4 cores on larger machines, where each worker's
memory (a model and its clips) starts to count; each gets an equal share of the cores.

On a Ray cluster the user says what a task needs; it is checked against the cluster's nodes
before any task is sent, because Ray queues a task that no node can hold for ever, silently
(a GPU task on a cluster without GPUs would never start).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from alphaction_demo.errors import UsageError

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


@dataclass(frozen=True)
class TaskResources:
    """What each video's Ray task asks the cluster for."""

    cpus: float
    gpus: float

    @property
    def device(self) -> str:
        """What the task runs on, whatever the driver's machine has (Ray shows a task its GPUs)."""
        return "cuda" if self.gpus > 0 else "cpu"

    @property
    def threads(self) -> int:
        return max(1, int(self.cpus))


def _whole_above_one(flag: str, value: float) -> None:
    if value > 1 and value != int(value):
        raise UsageError(f"{flag} above 1 must be a whole number (fractions share one CPU or GPU), got {value:g}")


def ray_task_resources(nodes: Sequence[Mapping[str, float]], cpus: Optional[float], gpus: float) -> TaskResources:
    """`nodes`: each live node's resources (`ray.nodes()[i]["Resources"]`). `cpus` None: 4, or
    the CPUs of the largest node that has the GPUs asked for, when it has fewer."""
    if not nodes:
        raise UsageError("the Ray cluster has no live node to run tasks on; check it with `ray status`")
    if cpus is not None:
        _whole_above_one("--ray-cpus-per-task", cpus)
    _whole_above_one("--ray-gpus-per-task", gpus)
    with_gpus = [n for n in nodes if n.get("GPU", 0) >= gpus]
    if not with_gpus:
        most = max((n.get("GPU", 0) for n in nodes), default=0)
        if not most:
            raise UsageError(f"--ray-gpus-per-task {gpus:g}: the Ray cluster has no GPUs ({len(nodes)} node"
                             f"{'s' if len(nodes) != 1 else ''}); leave it out to run on CPUs, or add GPU nodes")
        raise UsageError(f"--ray-gpus-per-task {gpus:g}: no node of the Ray cluster has that many GPUs (the most is "
                         f"{most:g}); lower it")
    largest_cpus = max(n.get("CPU", 0) for n in with_gpus)
    if cpus is None:
        cpus = float(min(THREADS_PER_JOB, max(1, int(largest_cpus))))
    if cpus > largest_cpus:
        raise UsageError(f"no node of the Ray cluster has {cpus:g} CPUs" + (f" and {gpus:g} GPUs" if gpus else "")
                         + f" (the largest has {largest_cpus:g}); lower --ray-cpus-per-task")
    return TaskResources(cpus=float(cpus), gpus=float(gpus))
