# Two commands do everything on a fresh machine:
#   make train   create .venv, install, train the LeNet-style CNN on MNIST (data/mnist, downloaded if absent)
#   make test    create .venv, install with test extras, run the whole suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DATA   ?= data/mnist
# Two pytest workers fit the 2-core machines; each keeps its BLAS to one thread so they do not fight.
PYTEST_ARGS ?= -n 2

.PHONY: train test install install-test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

train: install
	$(PY) -m tinygrad_mnist train --model lenet --data-dir $(DATA) --download --out runs/lenet

test: install-test
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest $(PYTEST_ARGS)

bench: install-test
	$(PY) -m benchmarks.step

clean:
	rm -rf $(VENV) runs .pytest_cache .hypothesis
