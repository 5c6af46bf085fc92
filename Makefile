# `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
# Headless runs go through Xvfb when there is no display.
XVFB   := $(if $(DISPLAY),,xvfb-run -a -s "-screen 0 1600x1000x24")
# Hand detection (handviewer.detect): the wheel holds MediaPipe Hands' models. Installed without its
# declared dependencies (jax, opencv-contrib-python: unused, and a second cv2); pyproject.toml lists
# the ones it imports.
MEDIAPIPE := mediapipe==0.10.14

.PHONY: demo test venv sysdeps bench package clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# Pinned first so that the CPU build lying on disk is used; a bare `torch` would pull a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	$(PY) -m pip install -q --no-deps $(MEDIAPIPE)
	touch $(STAMP)

venv: $(STAMP)

sysdeps:
	bash scripts/install-system-deps.sh

demo: $(STAMP) sysdeps
	$(VENV)/bin/handviewer demo

test: $(STAMP) sysdeps
	$(XVFB) $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(XVFB) $(PY) benchmarks/run_all.py

# A one-folder desktop build (PyInstaller) in dist/handviewer, then its smoke test; minutes, so not in `make test`.
package: $(STAMP) sysdeps
	$(PY) -m pip install -q -e '.[package]'
	@start=$$(date +%s); \
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/handviewer.spec && \
	echo "build time: $$(( $$(date +%s) - start )) s; size of dist/handviewer: $$(du -sh dist/handviewer | cut -f1)"
	$(PY) packaging/smoke_test.py dist/handviewer/handviewer

clean:
	rm -rf $(VENV) build dist *.egg-info
