# onedoor: every target works from a fresh clone; `make run` and `make test` install what is missing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTOS := $(shell find protos -name '*.proto')
GEN_STAMP := gen/.stamp
# The local identity provider (node-oidc-provider) that `make run` and the tests sign staff in at.
OIDC_DIR := deploy/local/oidc
OIDC_STAMP := $(OIDC_DIR)/node_modules/.installed

.PHONY: openapi proto-contract install proto infra browser run run-cities test test-unit test-faults image test-image backup-drill bench bench-ingest bench-scale k8s lint fmt clean

install: $(STAMP) $(GEN_STAMP) $(OIDC_STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || { echo "==> creating virtual environment $(VENV)"; python3 -m venv $(VENV); }
	@echo "==> installing Python packages (pinned in pyproject.toml)"
	@$(PY) -m pip install -qq --upgrade pip
	@$(PY) -m pip install -qq -e '.[dev]'
	@# generated protobuf code lives in gen/; make it importable from the venv
	@echo "$(CURDIR)/gen" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/onedoor-gen.pth
	@touch $(STAMP)

$(OIDC_STAMP): $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "the local identity provider ($(OIDC_DIR)) needs Node.js 20 or later with npm" >&2; exit 1; }
	@echo "==> installing the local identity provider (npm ci in $(OIDC_DIR), pinned in package-lock.json)"
	@cd $(OIDC_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $(OIDC_STAMP)

proto: $(GEN_STAMP)

$(GEN_STAMP): $(PROTOS) $(STAMP)
	@echo "==> linting protos (buf) and generating Python code into gen/"
	@cd protos && ../$(VENV)/bin/buf lint
	@rm -rf gen && mkdir -p gen
	@$(PY) -m grpc_tools.protoc -I protos --python_out=gen --pyi_out=gen --grpc_python_out=gen $(PROTOS:protos/%=%)
	@touch $(GEN_STAMP)

# Records the current protos as the contract `make lint` holds them to. Run it after a
# compatible change (lint has passed against the old contract), so additions are kept too.
proto-contract: install
	@cd protos && ../$(VENV)/bin/buf breaking --against contract.binpb
	@cd protos && ../$(VENV)/bin/buf build -o contract.binpb
	@echo "==> protos/contract.binpb records the current v1 contracts"

# The HTTP API's OpenAPI description kept in the repository (a test fails when it is stale).
openapi: install
	@$(PY) -c 'import json; from gateway.http_api import description; open("docs/openapi.json", "w").write(json.dumps(description(), ensure_ascii=False, indent=2) + "\n")'
	@echo "==> docs/openapi.json describes the HTTP API as the gateway serves it"

infra:
	@bash deploy/local/ensure-infra.sh

browser:
	@bash deploy/local/ensure-browser.sh

run: install infra
	@$(PY) -m services.launcher --demo

run-cities: install infra
	@$(PY) -m services.launcher --cities

test: install infra browser
	@$(PY) -m pytest

test-unit: install
	@$(PY) -m pytest -m "not platform"

test-faults: install infra
	@$(PY) -m pytest -m faults tests/faults -q -s

# The image every Deployment runs, built with podman from a base made on this machine.
image:
	@bash deploy/local/build-image.sh

# Every process from that image as a container with the manifests' security settings.
test-image: install infra image
	@$(PY) -m pytest -m image tests/image -q -s

# pg_basebackup of a platform taking applications, restored and started again (tests/backup).
backup-drill: install infra
	@$(PY) -m pytest -m backup_drill tests/backup -q -s

bench: install infra
	@$(PY) -m bench

# The ingest phase of `make bench` alone: the seed's year of medical expenses (about 3 min).
bench-ingest: install infra
	@$(PY) -m bench.ingest

# Two routers and two intakes sharing the work against one router and one intake, each effect
# checked exactly once in the databases; then pgbench on the ledger's create (about 4 min).
bench-scale: install infra
	@$(PY) -m bench.scale

k8s:
	@kubectl kustomize deploy/k8s/overlays/dev
	@echo ---
	@kubectl kustomize deploy/k8s/overlays/prod

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy services gateway bench
	@cd protos && ../$(VENV)/bin/buf lint
	@# The v1 contracts may only grow: a breaking change to them fails here (and so in CI).
	@cd protos && ../$(VENV)/bin/buf breaking --against contract.binpb \
	  || { echo "a v1 contract changed incompatibly (above): add a field or an RPC instead, or start a v2 package" >&2; exit 1; }

fmt: install
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

clean:
	rm -rf gen $(VENV) .pytest_cache $(OIDC_DIR)/node_modules
