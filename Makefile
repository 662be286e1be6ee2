# Two commands do all set-up on a fresh Debian 12 machine: `make demo`, `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
APT_PKGS := tesseract-ocr tesseract-ocr-kaz tesseract-ocr-rus tesseract-ocr-eng \
            fonts-dejavu-core fonts-noto-core hunspell-kk hunspell-ru hunspell-uk hunspell-be hunspell-uz hunspell-en-us \
            chromium poppler-utils djvulibre-bin

.PHONY: install lock demo test bench bench-deps bench-deps-datatrove bench-deps-streaming bench-deps-langid clean-demo system-deps

system-deps:
	@if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -q kaz \
	    || ! command -v chromium >/dev/null || ! command -v ddjvu >/dev/null || [ ! -f /usr/share/hunspell/kk_KZ.dic ] || [ ! -f /usr/share/hunspell/uk_UA.dic ] \
	    || [ ! -f /usr/share/hunspell/uz_UZ.dic ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT_PKGS); \
	fi

$(STAMP): pyproject.toml constraints.txt
	$(MAKE) system-deps
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch/torchvision as DESIGN.md verified (EasyOCR needs torchvision); pip takes them from the local disk.
	$(PY) -m pip install -q -c constraints.txt torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# constraints.txt: the newest versions pyproject.toml admits, resolved in a fresh venv. Run
# `make lock test` to move to new releases on purpose, not when one happens to come out.
LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV) && python3 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install -q --upgrade pip
	$(LOCK_VENV)/bin/pip install -q torch==2.14.1 torchvision==0.29.1
	$(LOCK_VENV)/bin/pip install -q -e '.[dev]'
	{ sed -n '/^#/p' constraints.txt; $(LOCK_VENV)/bin/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf $(LOCK_VENV)

DEMO_INPUTS := inputs.text=[samples/text,samples/bad] inputs.books=[samples/books,samples/bad] \
               inputs.catalog=samples/books/catalog.csv

demo: install
	rm -rf demo_output
	RAY_AUTH_MODE=disabled $(VENV)/bin/qazflow build output=demo_output $(DEMO_INPUTS)
	$(VENV)/bin/qazflow status output=demo_output
	@echo "Results: $(CURDIR)/demo_output (report.html for people, shards/manifest.json for trainers)"

test: install
	RAY_AUTH_MODE=disabled $(VENV)/bin/python -m pytest -q --durations=25

# Benchmarks (tests/benchmarks; results in tests/benchmarks/results/*.json). datatrove, the
# baseline of curation_vs_datatrove.py, lives in a venv of its own, outside qazflow's deps.
# BENCH_ARGS=--quick runs the small version of each.
DT_VENV  := .bench/datatrove-venv
DT_STAMP := $(DT_VENV)/.installed
# orjson: datatrove's JsonlReader/JsonlWriter need it (it is in datatrove[io], the rest of which is not needed)
DT_PKGS  := 'datatrove[processing]' 'xxhash<4' spacy psutil orjson
BENCH_ARGS ?=

# mosaicml-streaming, the baseline of tokens_reader.py, pins numpy<2.2 and an older tokenizers:
# a venv of its own too. torch/torchvision pinned to the project's (taken from the local disk
# like the project's): streaming imports torchvision at import time, and PyPI's torchvision
# does not load against a CPU-only torch build.
ST_VENV  := .bench/streaming-venv
ST_STAMP := $(ST_VENV)/.installed
ST_PKGS  := torch==2.14.1 torchvision==0.29.1 'mosaicml-streaming==0.13.*'

bench-deps: bench-deps-datatrove bench-deps-streaming bench-deps-langid

# The held-out text of langid_eval.py (Thunderbird language packs, Tesseract word lists), and
# the word lists `python -m operators.text.char_ngrams` builds the n-gram model from.
LANGID_PKGS := thunderbird-l10n-kk thunderbird-l10n-ru thunderbird-l10n-uk thunderbird-l10n-be \
               tesseract-ocr-kir tesseract-ocr-tat tesseract-ocr-ukr tesseract-ocr-uzb-cyrl tesseract-ocr-bel \
               tesseract-ocr-mon hunspell-be hunspell-mn hunspell-uz
bench-deps-langid:
	@if ! dpkg -s $(LANGID_PKGS) >/dev/null 2>&1; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(LANGID_PKGS); \
	else echo "langid eval packages: installed"; fi

# Idempotent: the stamp holds the package list it was made with; pip runs only when it differs.
bench-deps-datatrove:
	@if [ "$$(cat $(DT_STAMP) 2>/dev/null)" != "$(DT_PKGS)" ]; then \
	  set -e; test -x $(DT_VENV)/bin/python || python3 -m venv $(DT_VENV); \
	  $(DT_VENV)/bin/python -m pip install -q --upgrade pip; \
	  $(DT_VENV)/bin/python -m pip install -q $(DT_PKGS); \
	  echo "$(DT_PKGS)" > $(DT_STAMP); \
	else echo "$(DT_VENV): up to date"; fi

bench-deps-streaming:
	@if [ "$$(cat $(ST_STAMP) 2>/dev/null)" != "$(ST_PKGS)" ]; then \
	  set -e; test -x $(ST_VENV)/bin/python || python3 -m venv $(ST_VENV); \
	  $(ST_VENV)/bin/python -m pip install -q --upgrade pip; \
	  $(ST_VENV)/bin/python -m pip install -q $(ST_PKGS); \
	  echo "$(ST_PKGS)" > $(ST_STAMP); \
	else echo "$(ST_VENV): up to date"; fi

bench: install bench-deps
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/curation_vs_datatrove.py $(BENCH_ARGS)
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/ocr_eval.py $(BENCH_ARGS)
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/langid_eval.py $(BENCH_ARGS)
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/ocr_speed.py $(BENCH_ARGS)
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/news_extract.py $(BENCH_ARGS)
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/near_dedup_scaling.py
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/exact_dedup.py
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/tokens_reader.py $(BENCH_ARGS)
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/scale.py $(BENCH_ARGS)
	RAY_AUTH_MODE=disabled $(PY) tests/benchmarks/books_scale.py $(BENCH_ARGS)
	$(PY) tests/benchmarks/ebooks_read.py $(BENCH_ARGS)

clean-demo:
	rm -rf demo_output
