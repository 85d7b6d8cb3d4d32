# The two set-up commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime-installed
STAMP := $(VENV)/.installed

.PHONY: demo test test-lowest install benchmarks screenshot clean

# What `make demo` needs: the runtime requirements and the OpenVINO extra (`--backend auto` runs both
# networks on it where the CPU does bf16 natively). pip and setuptools are upgraded first: an old
# venv's setuptools cannot install a pyproject-only project in editable mode.
$(RUNTIME): requirements.txt requirements-openvino.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-openvino.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(RUNTIME)

# What `make test` needs on top: the test tools and the optional Ray extra. All install the
# exact versions the suite passed with (constraints.txt; scripts/freeze_constraints.sh rewrites it).
$(STAMP): $(RUNTIME) requirements-test.txt requirements-ray.txt
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-test.txt -r requirements-ray.txt \
		-r requirements-openvino.txt -c constraints.txt
	touch $(STAMP)

install: $(STAMP)

# The webcam when one is present; otherwise the demo says how to pass a video.
demo: $(RUNTIME)
	$(PY) -m alphaction_demo.app.launcher $(ARGS)

# The whole suite, then (unless PYTEST_ARGS narrows the run) the lowest-versions job
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen YOLO_OFFLINE=1 $(PY) -m pytest -q $(PYTEST_ARGS)
	@if [ -z "$(PYTEST_ARGS)" ]; then $(MAKE) --no-print-directory test-lowest; fi

# Every floor of the requirements files installed in .venv-lowest (torch and torchvision linked from
# .venv), and a smoke subset of the suite run there: scripts/lowest_versions.py
test-lowest: $(STAMP)
	$(PY) scripts/lowest_versions.py

benchmarks: $(STAMP)
	YOLO_OFFLINE=1 $(PY) benchmarks/action_model.py
	YOLO_OFFLINE=1 $(PY) benchmarks/detection.py
	YOLO_OFFLINE=1 $(PY) benchmarks/pipeline.py
	YOLO_OFFLINE=1 $(PY) benchmarks/batch.py
	YOLO_OFFLINE=1 $(PY) benchmarks/motion.py
	YOLO_OFFLINE=1 $(PY) benchmarks/recording.py
	YOLO_OFFLINE=1 $(PY) benchmarks/live.py
	YOLO_OFFLINE=1 $(PY) benchmarks/backends.py  # OpenVINO / ONNX Runtime rows only where they are installed
	YOLO_OFFLINE=1 $(PY) benchmarks/report.py page
	YOLO_OFFLINE=1 $(PY) benchmarks/report.py overhead

# The README's screenshot, on a virtual X server (Debian: xvfb), with random weights when none are present
screenshot: $(STAMP)
	YOLO_OFFLINE=1 $(PY) scripts/screenshot.py --xvfb --boxes docs/screenshot-boxes.csv --start 27000 --threshold 0.3 --event-on 0.8
	YOLO_OFFLINE=1 $(PY) scripts/screenshot.py --xvfb --boxes docs/screenshot-boxes.csv --start 27000 --threshold 0.3 --event-on 0.8 --full-screen --out docs/screenshot-fullscreen.png

clean:
	rm -rf $(VENV) .venv-lowest .pytest_cache
