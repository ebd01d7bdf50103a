"""Wire format between the grading process and the student worker: plain numbers, never pickle.

A frame is an 8-byte prefix (header length, payload length: big-endian uint32), a UTF-8 JSON
header, then a payload of raw array bytes. Arrays are described in the header by dtype string and
shape and laid out back to back in the payload (C order). Only numeric dtypes may cross: the
decoder refuses anything else before it looks at a byte of payload, and builds fresh arrays with
np.frombuffer, so nothing the worker sends can run code in the grader.

This module is loaded on both sides, inside the worker by file path, so it imports only the
standard library and numpy.
"""

from __future__ import annotations

import json
import math
import os
import struct

import numpy as np

PREFIX = struct.Struct(">II")
# dtype kinds a student result may have: float, signed and unsigned int, bool
NUMERIC_KINDS = "fiub"
MAX_NDIM = 8


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed frame or a permitted array."""


def encode_arrays(arrays: list[np.ndarray]) -> tuple[list[dict], bytes]:
    """Describe arrays for a header and concatenate their bytes into a payload."""
    specs, chunks = [], []
    for a in arrays:
        a = np.asarray(a)  # tobytes() writes C order whatever the layout (ascontiguousarray would make 0-d arrays 1-d)
        specs.append({"dtype": a.dtype.str, "shape": list(a.shape)})
        chunks.append(a.tobytes())
    return specs, b"".join(chunks)


def pack_frame(header: dict, payload: bytes = b"") -> bytes:
    head = json.dumps(header, allow_nan=False).encode("utf-8")
    return PREFIX.pack(len(head), len(payload)) + head + payload


def decode_arrays(specs: list, payload: bytes, max_bytes: int) -> list[np.ndarray]:
    """Rebuild arrays from their specs, checking dtype, shape and sizes before touching the payload.

    Returns fresh arrays of the sender's (numeric) dtype; a ProtocolError says what was wrong.
    """
    if not isinstance(specs, list):
        raise ProtocolError("array list is not a list")
    arrays, offset = [], 0
    for spec in specs:
        dtype, shape = _check_spec(spec)
        nbytes = dtype.itemsize * math.prod(shape)
        if nbytes > max_bytes or offset + nbytes > len(payload):
            raise ProtocolError(f"array of shape {tuple(shape)} does not fit the payload or the size cap")
        flat = np.frombuffer(payload, dtype=dtype, count=math.prod(shape), offset=offset)
        arrays.append(flat.reshape(shape).copy())
        offset += nbytes
    if offset != len(payload):
        raise ProtocolError("payload length does not match the arrays it should hold")
    return arrays


def _check_spec(spec) -> tuple[np.dtype, list[int]]:
    if not isinstance(spec, dict) or not isinstance(spec.get("dtype"), str) or not isinstance(spec.get("shape"), list):
        raise ProtocolError("malformed array description")
    try:
        dtype = np.dtype(spec["dtype"])
    except TypeError:
        raise ProtocolError(f"unknown dtype {spec['dtype'][:40]!r}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"dtype {dtype} is not numeric")
    shape = spec["shape"]
    if len(shape) > MAX_NDIM or not all(type(d) is int and 0 <= d < 2**40 for d in shape):
        raise ProtocolError("malformed shape")
    return dtype, shape


def read_exact_blocking(fd: int, n: int) -> bytes:
    """Read exactly n bytes from a blocking fd; b'' if the peer closed first (worker side)."""
    chunks, remaining = [], n
    while remaining:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame_blocking(fd: int) -> tuple[dict, bytes] | None:
    """Read one frame (worker side: the grader is trusted). None at end of stream."""
    prefix = read_exact_blocking(fd, PREFIX.size)
    if not prefix:
        return None
    head_len, payload_len = PREFIX.unpack(prefix)
    header = json.loads(read_exact_blocking(fd, head_len).decode("utf-8"))
    payload = read_exact_blocking(fd, payload_len) if payload_len else b""
    return header, payload


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
