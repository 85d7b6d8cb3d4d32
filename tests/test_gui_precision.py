"""The window's precision choice: "auto" first, beside the model; choosing one goes on like a model
change (the session gets the new model settings), and the status bar shows what runs."""

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

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("isolated_qsettings")]


@pytest.fixture
def window(qtbot, tmp_path):
    win = fake_window(qtbot, tmp_path)
    yield win
    win.close()


def _choose(window, value: str) -> None:
    combo = window.panel.precision
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
