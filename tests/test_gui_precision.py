"""The window's precision and backend choices: "auto" first, beside the model; choosing one goes on
like a model change (the session gets the new model settings), and the status bar shows what runs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from alphaction_demo.gui.qtenv import prepare_qt_environment  # noqa: E402

prepare_qt_environment()

import pytest  # noqa: E402

from alphaction_demo.action.cpu_support import working_precisions  # noqa: E402
from alphaction_demo.action.precision import choose_precision  # noqa: E402
from alphaction_demo.gui.session import WEBCAM, SourceSpec  # noqa: E402
from gui_fakes import fake_window  # noqa: E402
from alphaction_demo.action import backend, cpu_support  # noqa: E402
from alphaction_demo.gui.models import backend_choices  # noqa: E402

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("isolated_qsettings")]


@pytest.fixture
def window(qtbot, tmp_path):
    win = fake_window(qtbot, tmp_path)
    yield win
    win.close()


def _choose(window, value: str, combo_name: str = "precision") -> None:
    combo = getattr(window.panel, combo_name)
    index = combo.findData(value)
    assert index >= 0, [combo.itemData(i) for i in range(combo.count())]
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_auto_comes_first_and_says_what_it_picks(window):
    combo = window.panel.precision
    values = [combo.itemData(i) for i in range(combo.count())]
    assert values == ["auto", *working_precisions("cpu")]
    assert combo.itemText(0) == f"auto ({choose_precision('auto', 'cpu').precision})"


def test_a_new_precision_goes_on_like_a_new_model_and_shows_in_the_status_bar(window, qtbot):
    window.open_source(SourceSpec(WEBCAM, "0"))
    qtbot.waitUntil(lambda: window.frame is not None, timeout=3000)
    session = window.session
    qtbot.waitUntil(lambda: window.status.text("precision") == "fp32", timeout=2000)
    _choose(window, "auto")
    auto = choose_precision("auto", "cpu").precision
    assert (window.run.model.precision, window.run.model.auto_precision) == (auto, True)
    qtbot.waitUntil(lambda: len(session.model_changes) == 1, timeout=2000)  # after the choice settles
    assert window.session is session  # the same run goes on
    qtbot.waitUntil(lambda: window.status.text("precision") == f"{auto} (auto)", timeout=2000)
    _choose(window, "fp32")
    assert (window.run.model.precision, window.run.model.auto_precision) == ("fp32", False)
    qtbot.waitUntil(lambda: len(session.model_changes) == 2, timeout=2000)


def test_the_backend_choice_follows_the_precision_and_shows_in_the_status_bar(qtbot, tmp_path, monkeypatch):
    """Played on a CPU with native bf16 and openvino installed: auto is torch at fp32 (the official
    numbers) and OpenVINO at bf16; a named backend is kept; the status bar says what runs."""
    monkeypatch.delenv(cpu_support.NO_BF16_ENV, raising=False)
    monkeypatch.setattr(cpu_support, "cpu_flags", lambda: frozenset({"avx512bw", "avx512_bf16", "amx_bf16"}))
    monkeypatch.setattr(cpu_support, "_torch_says_bf16", lambda: True)
    monkeypatch.setattr(backend, "openvino_installed", lambda: True)
    window = fake_window(qtbot, tmp_path)
    try:
        combo = window.panel.backend
        assert [combo.itemData(i) for i in range(combo.count())] == ["auto", "torch", "openvino"]
        assert combo.itemText(0) == "auto (torch)"  # the window starts at fp32
        window.open_source(SourceSpec(WEBCAM, "0"))
        qtbot.waitUntil(lambda: window.frame is not None, timeout=3000)
        session = window.session
        qtbot.waitUntil(lambda: window.status.text("backend") == "torch", timeout=2000)  # named torch
        _choose(window, "auto", "backend")
        assert (window.run.model.backend, window.run.model.auto_backend) == ("torch", True)
        qtbot.waitUntil(lambda: window.status.text("backend") == "torch (auto)", timeout=2000)
        _choose(window, "bf16")
        assert (window.run.model.backend, window.run.model.auto_backend) == ("openvino", True)
        assert combo.itemText(0) == "auto (openvino)" and combo.currentData() == "auto"
        qtbot.waitUntil(lambda: len(session.model_changes) == 2, timeout=2000)
        qtbot.waitUntil(lambda: window.status.text("backend") == "openvino (auto)", timeout=2000)
        _choose(window, "torch", "backend")
        assert (window.run.model.precision, window.run.model.backend, window.run.model.auto_backend) == \
            ("bf16", "torch", False)
        qtbot.waitUntil(lambda: window.status.text("backend") == "torch", timeout=2000)
        monkeypatch.setattr(backend, "openvino_installed", lambda: False)
        assert [value for value, _ in backend_choices(window.run)] == ["auto", "torch"]
    finally:
        window.close()
