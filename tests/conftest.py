from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from smart_lineart.engine.model_card import ModelCard, load_card
from smart_lineart.engine.preprocess import grey_on_white, to_uint8
from training.synth import make_pair

ROOT = Path(__file__).resolve().parent.parent
TEST_SEED = 31_337  # sketches for tests: a seed that training, validation and eval never use


@pytest.fixture(scope="session")
def card() -> ModelCard:
    return load_card()


@pytest.fixture(scope="session")
def sketch() -> np.ndarray:
    """A generated rough sketch, odd-sized and larger than the small tiles used in tests."""
    p = make_pair(np.random.default_rng(TEST_SEED), 544)
    return to_uint8(grey_on_white(p.sketch))[:517, 5:306]


def run_cli(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "smart_lineart", *args], capture_output=True, text=True, cwd=ROOT)
