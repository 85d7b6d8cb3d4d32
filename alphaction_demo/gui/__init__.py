"""The PyQt5 presentation window.

Qt stays inside this package: the pipeline never imports it. `app.run_gui(args)` is the entry
point; `qtenv.prepare_qt_environment()` must run before the first PyQt5 import.
"""
