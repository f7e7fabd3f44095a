# Set-up and entry points. `make run` runs the default workflow on the bundled data; `make test`
# runs the tests. Both create the Python environment (.venv) and install the system tools first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all

.PHONY: run test lint setup system-tools clean

run: setup
	$(BIN)/snakemake --cores $(CORES)

test: setup
	$(BIN)/python -m pytest -ra

lint: setup
	$(BIN)/snakemake --lint

setup: $(VENV)/.installed system-tools

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# bcftools, tabix and plink1.9 check the VCFs the workflow writes (the workflow itself uses pysam).
system-tools:
	@./.ci/install-system-tools

clean:
	rm -rf results logs .snakemake
