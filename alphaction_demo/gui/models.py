"""Which action models the window offers: the model-zoo entries whose weights are in weights/.

Offering only what is on disk keeps a presenter from picking a model that fails after a download
prompt; switching goes through the same resolution as `--model` on the command line.
"""

from __future__ import annotations

from dataclasses import replace
from typing import List, Tuple

from alphaction_demo.action import zoo
from alphaction_demo.action import backend as backends
from alphaction_demo.action.backend import OPENVINO, TORCH, choose_backend
from alphaction_demo.action.cpu_support import working_precisions
from alphaction_demo.action.precision import AUTO, choose_precision
from alphaction_demo.errors import WeightsError
from alphaction_demo.run_settings import RunSettings


def available_models(run: RunSettings) -> List[str]:
    """Zoo names with weights present, plus the model of this run (which may be a custom file)."""
    folder = zoo.weights_dir()
    names = [e.name for e in zoo.MODEL_ZOO if (folder / e.filename).is_file()]
    current = run.model.display_name
    if current not in names:
        names.insert(0, current)
    return names


def settings_for_model(run: RunSettings, name: str) -> RunSettings:
    """The run's settings with zoo model `name`; WeightsError when its weights are absent."""
    entry = zoo.resolve_model(name)
    path = zoo.weights_dir() / entry.filename
    if not path.is_file():
        raise WeightsError(f"weights for {entry.name} not found at {path}; download them with "
                           f"`alphaction-demo --download-weights {entry.name}`")
    model = replace(run.model, name=entry.name, config=entry.config, weights=str(path), common_cate=entry.common_cate)
    return replace(run, model=model)


def precision_choices(run: RunSettings) -> List[Tuple[str, str]]:
    """(value, text) of the precisions the window offers: "auto" first, showing what it picks here,
    then each precision that runs on the run's device."""
    device = run.model.device
    return [(AUTO, f"auto ({choose_precision(AUTO, device).precision})")] + [(p, p) for p in working_precisions(device)]


def current_precision(run: RunSettings) -> str:
    return AUTO if run.model.auto_precision else run.model.precision


def settings_for_precision(run: RunSettings, value: str) -> RunSettings:
    """The run's settings at precision `value` ("auto" resolved for this machine); an automatic
    backend is chosen again for it (OpenVINO wins in bf16 only)."""
    choice = choose_precision(value, run.model.device)
    model = replace(run.model, precision=choice.precision, auto_precision=choice.automatic,
                    precision_reason=choice.reason)
    return _with_backend(replace(run, model=model), AUTO if run.model.auto_backend else run.model.backend)


def backend_choices(run: RunSettings) -> List[Tuple[str, str]]:
    """(value, text) of the backends the window offers: "auto" first, showing what it picks for the
    run's precision, then torch, and OpenVINO where it is installed and the model runs on the CPU."""
    device = run.model.device
    auto = choose_backend(AUTO, run.model.precision, device).backend
    offered = [TORCH] + ([OPENVINO] if backends.openvino_installed() and device.startswith("cpu") else [])
    return [(AUTO, f"auto ({auto})")] + [(b, b) for b in offered]


def current_backend(run: RunSettings) -> str:
    return AUTO if run.model.auto_backend else run.model.backend


def settings_for_backend(run: RunSettings, value: str) -> RunSettings:
    """The run's settings on backend `value` ("auto" resolved for this machine and precision)."""
    return _with_backend(run, value)


def _with_backend(run: RunSettings, value: str) -> RunSettings:
    choice = choose_backend(value, run.model.precision, run.model.device)
    model = replace(run.model, backend=choice.backend, auto_backend=choice.automatic, backend_reason=choice.reason)
    return replace(run, model=model)
