"""Seeded inputs for the action-model tests, shared with the (uncommitted) script that produced the
regression fixture by running the official AlphAction code on exactly these inputs."""

from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import torch

CLIP_SIZE = (64, 96)  # small, so the tests stay fast; multiples of 16 like the demo's padded clips
CONTENT_WIDTH = 90  # the last 6 columns are zero padding, as the demo adds
PERSONS_PER_STEP = (7, 2, 3, 0, 4)  # 7 > MAX_PER_SEC exercises sampling, 0 an empty memory entry
OBJECTS = 7  # more than MAX_OBJECT (5)


def regression_timestamps(rate: int) -> List[int]:
    t0 = 1000
    return [t0 - 3 * rate, t0 - rate, t0, t0 + rate, t0 + 2 * rate]


def seeded_clip_inputs(tau: int, alpha: int, n_persons: int, generator: torch.Generator,
                       n_objects: int = OBJECTS) -> Tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    height, width = CLIP_SIZE
    clip = torch.randn(1, 3, 64, height, width, generator=generator)
    clip[..., CONTENT_WIDTH:] = 0
    slow = clip[:, :, ::tau].contiguous()
    fast = clip[:, :, :: tau // alpha].contiguous()
    xy = torch.rand(n_persons, 2, generator=generator) * torch.tensor([CONTENT_WIDTH * 0.7, height * 0.6])
    wh = torch.rand(n_persons, 2, generator=generator) * torch.tensor([CONTENT_WIDTH * 0.5, height * 0.5]) + 8
    persons = torch.cat([xy, xy + wh], 1)
    persons[:, 2] = persons[:, 2].clamp(max=CONTENT_WIDTH - 1)
    persons[:, 3] = persons[:, 3].clamp(max=height - 1)
    oxy = torch.rand(n_objects, 2, generator=generator) * torch.tensor([CONTENT_WIDTH * 0.7, height * 0.6])
    objects = torch.cat([oxy, oxy + 12], 1)
    return slow, fast, persons.numpy(), objects.numpy()


def regression_inputs(tau: int, alpha: int, rate: int, seed: int = 1) -> Dict[int, tuple]:
    generator = torch.Generator().manual_seed(seed)
    return {t: seeded_clip_inputs(tau, alpha, n, generator)
            for t, n in zip(regression_timestamps(rate), PERSONS_PER_STEP)}


PREDICTION_SEED = 123  # torch.manual_seed before each stage-1 call: the official sampling uses the global RNG
