#!/bin/sh
# Convenience wrapper: benchmarks/run.sh [--quick] [--workloads text,...] [--servers ...]
set -e
cd "$(dirname "$0")"
make -s setup
cd ..
exec benchmarks/.venv-bench/bin/python -m benchmarks.run "$@"
