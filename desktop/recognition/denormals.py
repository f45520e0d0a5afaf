"""Flush denormal weights of an ONNX model to zero before onnxruntime loads it.

PP-OCRv6's text detector carries about 256,000 denormal weights (non-zero floats
smaller than 1.2e-38), nearly all in two 768-to-384 convolutions. x86 processors
multiply denormals through a slow microcode path: on an Intel Xeon those two layers
took two thirds of the detector's time (131 ms of a 416 x 736 image against 44 ms
with the weights flushed). onnxruntime's ``session.set_denormal_as_zero`` only
covers its own pool threads and the thread that created the process's first
session, not the worker thread the booth recognizes on, so the weights themselves
are fixed. A denormal weight contributes less than 1e-38 to any output: flushing it
changes nothing a reader could see.

The model is walked in protobuf's wire format (field numbers from ``onnx.proto``),
so no ``onnx`` package is needed at run time: ModelProto.graph (7), then each
GraphProto.initializer (5), then in each TensorProto of data_type FLOAT (2 = 1) its
``raw_data`` (9) or packed ``float_data`` (4), rewritten in place (same length, so
every enclosing length stays valid). Initializers in subgraphs and external data are
left alone; the PP-OCR models have neither.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

MODEL_GRAPH = 7
GRAPH_INITIALIZER = 5
TENSOR_DATA_TYPE = 2
TENSOR_FLOAT_DATA = 4
TENSOR_RAW_DATA = 9
FLOAT = 1

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5
SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)


def flush_denormal_weights(model: bytes) -> tuple[bytes, int]:
    """``model`` (a serialized ONNX ModelProto) with every denormal float32 weight of
    its main graph set to zero, and how many were."""
    buffer = bytearray(model)
    flushed = 0
    for start, end in _float_tensor_data(buffer):
        values = np.frombuffer(buffer, dtype="<f4", count=(end - start) // 4, offset=start)
        denormal = (values != 0) & (np.abs(values) < SMALLEST_NORMAL)
        count = int(np.count_nonzero(denormal))
        if count:
            values[denormal] = 0.0
            flushed += count
    return bytes(buffer), flushed


def _float_tensor_data(buffer: bytearray) -> Iterator[tuple[int, int]]:
    """Byte spans of the float32 values of each FLOAT initializer in ``buffer``."""
    for field, start, end in _fields(buffer, 0, len(buffer)):
        if field != MODEL_GRAPH:
            continue
        for g_field, t_start, t_end in _fields(buffer, start, end):
            if g_field != GRAPH_INITIALIZER:
                continue
            data_type, spans = 0, []
            for t_field, v_start, v_end in _fields(buffer, t_start, t_end):
                if t_field == TENSOR_DATA_TYPE:
                    data_type = _varint(buffer, v_start)[0]
                elif t_field in (TENSOR_RAW_DATA, TENSOR_FLOAT_DATA):
                    spans.append((v_start, v_end))
            if data_type == FLOAT:
                yield from spans


def _fields(buffer: bytearray, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(field number, value start, value end) of each varint or length-delimited field
    of the message at ``buffer[start:end]``; fixed-width fields are skipped."""
    pos = start
    while pos < end:
        key, pos = _varint(buffer, pos)
        field, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            _, value_end = _varint(buffer, pos)
            yield field, pos, value_end
            pos = value_end
        elif wire_type == LENGTH_DELIMITED:
            length, pos = _varint(buffer, pos)
            if pos + length > end:
                raise ValueError(f"not an ONNX model: field {field} runs past byte {end}")
            yield field, pos, pos + length
            pos += length
        elif wire_type == FIXED64:
            pos += 8
        elif wire_type == FIXED32:
            pos += 4
        else:
            raise ValueError(f"not an ONNX model: wire type {wire_type} at byte {pos}")


def _varint(buffer: bytearray, pos: int) -> tuple[int, int]:
    """The base-128 integer starting at ``pos`` and the position after it."""
    value = shift = 0
    while True:
        if pos >= len(buffer):
            raise ValueError("not an ONNX model: truncated integer")
        byte = buffer[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
