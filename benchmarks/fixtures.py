"""Deterministic benchmark inputs: the large notebook and the editing trace path.

The notebook is generated (not shipped) so its size is a parameter: quick mode
uses 1 MB, the full run 5 MB.  Cells alternate markdown and code with stream
outputs, roughly like a long analysis notebook.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The trace the tests use too (CC BY 4.0; attribution in tests/data/README.md).
TRACE = REPO / "tests" / "data" / "automerge-paper.json.gz"

_WORDS = ("data frame plot model value result index column mean sum loop array "
          "import numpy pandas figure axis label train test score error").split()


def _code(rng: random.Random, lines: int) -> str:
    out = []
    for i in range(lines):
        a, b, c = rng.choice(_WORDS), rng.choice(_WORDS), rng.choice(_WORDS)
        out.append(f"{a}_{i} = {b}.{c}({rng.randint(0, 999)}, {a}_{max(0, i - 1)})  # {b} {c}\n")
    return "".join(out)


def make_notebook(path: Path, size_mb: float, seed: int = 42) -> Path:
    """Write an nbformat-4 notebook of about size_mb megabytes (JSON bytes)."""
    rng = random.Random(seed)
    cells, size, n = [], 0, 0
    target = size_mb * 1_000_000
    while size < target:
        if n % 3 == 0:
            cell = {"cell_type": "markdown", "id": f"md-{n}", "metadata": {},
                    "source": " ".join(rng.choice(_WORDS) for _ in range(120))}
        else:
            cell = {"cell_type": "code", "id": f"code-{n}", "metadata": {"tags": []}, "execution_count": n,
                    "source": _code(rng, 40),
                    "outputs": [{"output_type": "stream", "name": "stdout", "text": _code(rng, 20)}]}
        cells.append(cell)
        size += len(json.dumps(cell))
        n += 1
    nb = {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}
    path.write_text(json.dumps(nb, indent=1))
    return path
