"""A virtual X display and real screenshots of windows on it, for tests and the README screenshot.

Xvfb picks a free display itself (`-displayfd`), so parallel runs never collide. Windows are
found with xdotool. The screenshot is taken by a separate Qt client on the xcb platform that asks
the X server for the window's pixels (`QScreen.grabWindow`, i.e. XGetImage) and writes a PNG:
no ImageMagick or python-xlib needed, and it captures what the X server shows, not what the app
thinks it drew. Debian packages: xvfb, xdotool (plus Qt's xcb libraries, see README).

Presenters run the window under a window manager, which reparents it into a frame, decides which
window has the input focus and moves it; `window_manager()` runs a small one (evilwm: 123 kB, no
dependencies beyond Xlib) on the virtual display, so a test can compare with and without.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, Optional

GRAB = r"""
import sys
from PyQt5.QtWidgets import QApplication
app = QApplication(["grab"])
pixmap = app.primaryScreen().grabWindow(int(sys.argv[1]))
sys.exit(0 if not pixmap.isNull() and pixmap.save(sys.argv[2], "PNG") else 1)
"""


# "fixed" is the X server's built-in font: evilwm's default needs a font package CI does not install
WINDOW_MANAGER = ("evilwm", "-fn", "fixed")


def missing_tools(window_manager: bool = False) -> list:
    tools = ("Xvfb", "xdotool") + ((WINDOW_MANAGER[0],) if window_manager else ())
    return [tool for tool in tools if shutil.which(tool) is None]


def _stop(process: subprocess.Popen) -> None:
    """Ask a server we started to end; kill it if it has not within 5 s."""
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()


@contextlib.contextmanager
def virtual_display(size: str = "1280x800x24", timeout: float = 10.0) -> Iterator[str]:
    """Start Xvfb on a free display and yield its name (":N"); stop it on exit."""
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp"],
                               pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + timeout
        with os.fdopen(read_fd, "rb") as pipe:
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip():
            raise RuntimeError(f"Xvfb did not start: {process.stderr.read().decode(errors='replace')[-500:]}")
        yield f":{number.decode().strip()}"
    finally:
        _stop(process)


@contextlib.contextmanager
def window_manager(display: str, command=WINDOW_MANAGER, timeout: float = 10.0) -> Iterator[subprocess.Popen]:
    """Run a window manager on `display` and yield once it manages the screen (it has published the
    EWMH desktop count on the root window, which xdotool reads); stop it on exit."""
    env = x_env(display)
    process = subprocess.Popen(list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while subprocess.run(["xdotool", "get_num_desktops"], env=env, capture_output=True).returncode != 0:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} did not start on {display}: "
                                   f"{process.stderr.read().decode(errors='replace')[-500:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not manage {display} within {timeout:.0f} s")
            time.sleep(0.05)
        yield process
    finally:
        _stop(process)


@contextlib.contextmanager
def x_server(with_window_manager: bool = False, size: str = "1280x800x24") -> Iterator[str]:
    """A virtual display, managed by `WINDOW_MANAGER` when asked; yields the display's name."""
    with virtual_display(size) as display:
        if not with_window_manager:
            yield display
            return
        with window_manager(display):
            yield display


def x_env(display: str, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM_PLUGIN_PATH")}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", **extra)
    return env


def find_window(display: str, title: str, timeout: float = 60.0,
                process: Optional[subprocess.Popen] = None) -> Optional[int]:
    """The id of the first visible window whose title contains `title`, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return None
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", title],
                               env=x_env(display), capture_output=True, text=True)
        ids = found.stdout.split()
        if ids:
            return int(ids[0])
        time.sleep(0.3)
    return None


def grab_window(display: str, window_id: int, path: Path) -> Path:
    """Save what the X server shows of `window_id` (0: the whole screen) as a PNG."""
    env = x_env(display)
    subprocess.run([sys.executable, "-c", GRAB, str(window_id), str(path)], env=env, check=True,
                   timeout=30, capture_output=True)
    return path


def active_window(display: str) -> Optional[int]:
    """The window the window manager made active (EWMH); None without a window manager."""
    found = subprocess.run(["xdotool", "getactivewindow"], env=x_env(display), capture_output=True, text=True)
    return int(found.stdout) if found.returncode == 0 and found.stdout.strip().isdigit() else None


def key(display: str, window_id: int, keys: str) -> None:
    """Type `keys` (xdotool syntax, e.g. ctrl+q) into the window, focusing it first (with no window
    manager nobody else gives it the focus)."""
    env = x_env(display)
    subprocess.run(["xdotool", "windowfocus", "--sync", str(window_id)], env=env, check=True, timeout=10)
    subprocess.run(["xdotool", "key", "--clearmodifiers", keys], env=env, check=True, timeout=10)
