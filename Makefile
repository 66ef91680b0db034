# The two commands a new machine needs (see README.md).
.PHONY: run test lint bench deploy-local deploy-local-stop

run:  ## install into .venv and start `jupyter collab-docs` on the embedded defaults
	./scripts/run.sh

test:  ## install everything the tests need, then lint and run the whole suite
	./scripts/test.sh

lint:
	.venv/bin/ruff check jupyter_collab_docs tests
	.venv/bin/ruff format --check jupyter_collab_docs tests
	.venv/bin/mypy

deploy-local:  ## the reference deployment (deploy/) on this machine: nginx, 3 nodes, FerretDB, MariaDB, Redis + Sentinel, Kafka
	./scripts/setup-venv.sh
	./scripts/servers/install-all.sh
	./scripts/deploy-local start

deploy-local-stop:
	./scripts/deploy-local stop
