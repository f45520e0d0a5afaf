"""Denormal weights flushed before onnxruntime loads a model: only those change."""

from __future__ import annotations

import struct

import numpy as np
import onnxruntime as ort
import pytest

from desktop.recognition.denormals import flush_denormal_weights
from desktop.recognition.rapidocr_engine import (
    DEFAULT_DET_SIDE,
    DET_MODEL,
    bundled_model_dir,
    detect_lines,
    pp_ocr_detector,
)
from desktop.synthetic.render import render_plate
from desktop.synthetic.scene import compose_scene

FLOAT, INT64 = 1, 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _tensor(name: str, data_type: int, data: bytes, *, packed_floats: bool = False) -> bytes:
    """A TensorProto: dims (1), data_type (2), name (8), raw_data (9) or float_data (4)."""
    count = len(data) // (4 if data_type == FLOAT else 8)
    return (
        _varint(1 << 3) + _varint(count)
        + _varint(2 << 3) + _varint(data_type)
        + _field(8, name.encode())
        + _field(4 if packed_floats else 9, data)
    )  # fmt: skip


def _model(*tensors: bytes) -> bytes:
    """A ModelProto: ir_version (1), a graph (7) of these initializers (5) and a name (2)."""
    graph = _field(2, b"g") + b"".join(_field(5, tensor) for tensor in tensors)
    return _varint(1 << 3) + _varint(8) + _field(7, graph)


def _floats(*values: float) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def test_only_denormal_floats_are_zeroed() -> None:
    weights = _floats(1.0, 1e-40, -3e-42, 0.0, 2e-38, -7.5)
    packed = _floats(1e-39, 0.25)
    # Integers whose bytes, read as floats, would be denormals: they must not change.
    counts = struct.pack("<3q", 1, 2, 300)
    model = _model(
        _tensor("w", FLOAT, weights),
        _tensor("steps", INT64, counts),
        _tensor("b", FLOAT, packed, packed_floats=True),
    )

    flushed, count = flush_denormal_weights(model)

    assert count == 3
    assert flushed == _model(
        _tensor("w", FLOAT, _floats(1.0, 0.0, 0.0, 0.0, 2e-38, -7.5)),
        _tensor("steps", INT64, counts),
        _tensor("b", FLOAT, _floats(0.0, 0.25), packed_floats=True),
    )


def test_a_model_without_denormals_is_returned_unchanged() -> None:
    model = _model(_tensor("w", FLOAT, _floats(0.5, -2.0)))

    assert flush_denormal_weights(model) == (model, 0)


@pytest.mark.parametrize("broken", [b"\x3a\xff\xff\xff\x0f", b"\xff", b"\x0f\x00"])
def test_a_file_that_is_no_model_is_refused_by_name(broken: bytes) -> None:
    with pytest.raises(ValueError, match="not an ONNX model"):
        flush_denormal_weights(broken)


def test_the_shipped_detector_finds_the_same_lines_with_its_denormals_flushed() -> None:
    """The detector ships with denormal weights (the reason for the flush); flushed,
    it finds the very same text lines, to the pixel."""
    model = bundled_model_dir() / DET_MODEL
    _, count = flush_denormal_weights(model.read_bytes())
    assert count > 100_000

    flushed = pp_ocr_detector(DEFAULT_DET_SIDE, threads=1)
    original = pp_ocr_detector(DEFAULT_DET_SIDE, threads=1)
    original.session.session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(11)
    scene, _ = compose_scene(render_plate("RCP7284", "us", height=60), (960, 720), rng)

    found = detect_lines(flushed, scene, DEFAULT_DET_SIDE, 0.5)
    expected = detect_lines(original, scene, DEFAULT_DET_SIDE, 0.5)

    assert found
    assert len(found) == len(expected)
    for quad, same in zip(found, expected, strict=True):
        np.testing.assert_allclose(quad, same, atol=0.5)
