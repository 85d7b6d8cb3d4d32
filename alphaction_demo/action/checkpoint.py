"""Reading and writing official AlphAction checkpoints.

A checkpoint is `{"model": state_dict}` (what the official code saves and ships) or a bare state
dict, possibly with the `module.` prefix DataParallel adds. Files are read with
`weights_only=True`, so loading never runs code from the file. Every key must match: a
half-loaded model gives plausible-looking nonsense, so a mismatch is an error that names the
configuration and the first offending keys.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Dict, List, Mapping, Union

import torch
from torch import nn

from alphaction_demo.errors import WeightsError

_SHOW = 5


def read_state_dict(path: Union[str, Path]) -> Dict[str, torch.Tensor]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f"weights not found: {path}")
    if path.stat().st_size == 0:
        raise WeightsError(f"{path} is empty (an interrupted download?); download it again")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, KeyError,
            AttributeError, TypeError, UnicodeDecodeError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise WeightsError(
            f"{path} is not a readable PyTorch checkpoint (truncated or another kind of file?): {reason}"
        ) from None
    state = loaded.get("model", loaded) if isinstance(loaded, Mapping) else None
    if not isinstance(state, Mapping) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path} holds no model weights (expected {{'model': state_dict}} or a state_dict)")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}


def save_checkpoint(state_dict: Mapping[str, torch.Tensor], path: Union[str, Path]) -> Path:
    """Save in the official format, `{"model": state_dict}`."""
    path = Path(path)
    torch.save({"model": {k: v.detach().cpu() for k, v in state_dict.items()}}, path)
    return path


def _first(items: List[str]) -> str:
    shown = ", ".join(items[:_SHOW])
    return shown + (f" (+{len(items) - _SHOW} more)" if len(items) > _SHOW else "")


def load_matching(module: nn.Module, state: Mapping[str, torch.Tensor], config_name: str, source: str) -> None:
    """Copy `state` into `module`, refusing anything but an exact key-and-shape match."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
                  if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or unexpected or mismatched:
        parts = []
        if mismatched:
            parts.append(f"shape mismatches (file vs model): {_first(mismatched)}")
        if missing:
            parts.append(f"missing keys: {_first(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_first(unexpected)}")
        raise WeightsError(
            f"{source} does not fit the {config_name} model ({'; '.join(parts)}); check --cfg-path, "
            "--common-cate and --weight-path belong together (see --list-models)"
        )
    module.load_state_dict(dict(state), strict=True)
