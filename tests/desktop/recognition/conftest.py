"""Fixtures shared by the recognition tests."""

from __future__ import annotations

import pytest

from desktop.recognition.engine import ProbabilityOcrEngine, load_engine


@pytest.fixture(scope="session")
def engine() -> ProbabilityOcrEngine:
    """The default engine (PP-OCR through RapidOCR), which keeps line probabilities;
    test modules about other engines define their own ``engine``."""
    loaded = load_engine("rapidocr")
    assert isinstance(loaded, ProbabilityOcrEngine)
    return loaded
