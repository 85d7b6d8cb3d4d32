# The two set-up commands of the README: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test install benchmarks screenshot clean

$(STAMP): requirements.txt requirements-test.txt requirements-ray.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-test.txt -r requirements-ray.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# The webcam when one is present; otherwise the demo says how to pass a video.
demo: $(STAMP)
	$(PY) -m alphaction_demo.app.launcher $(ARGS)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen YOLO_OFFLINE=1 $(PY) -m pytest -q $(PYTEST_ARGS)

benchmarks: $(STAMP)
	YOLO_OFFLINE=1 $(PY) benchmarks/action_model.py
	YOLO_OFFLINE=1 $(PY) benchmarks/detection.py
	YOLO_OFFLINE=1 $(PY) benchmarks/pipeline.py
	YOLO_OFFLINE=1 $(PY) benchmarks/batch.py
	YOLO_OFFLINE=1 $(PY) benchmarks/motion.py
	YOLO_OFFLINE=1 $(PY) benchmarks/recording.py
	YOLO_OFFLINE=1 $(PY) benchmarks/live.py
	YOLO_OFFLINE=1 $(PY) benchmarks/backends.py  # OpenVINO / ONNX Runtime rows only where they are installed

clean:
	rm -rf $(VENV) .pytest_cache
