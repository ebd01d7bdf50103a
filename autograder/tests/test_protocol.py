import pickle

import numpy as np
import pytest

from autograder.sandbox import protocol


def roundtrip(arrays, max_bytes=1 << 20):
    specs, payload = protocol.encode_arrays(arrays)
    return protocol.decode_arrays(specs, payload, max_bytes)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.uint8, np.bool_])
def test_numeric_arrays_round_trip(dtype):
    a = (np.arange(6).reshape(2, 3) % 2).astype(dtype)
    (b,) = roundtrip([a])
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)


def test_several_arrays_and_scalars():
    out = roundtrip([np.float64(2.5), np.ones((2, 1)), np.zeros(0)])
    assert [o.shape for o in out] == [(), (2, 1), (0,)]


def test_decoded_arrays_are_fresh_and_writable():
    (b,) = roundtrip([np.ones(3)])
    b[0] = 7.0
    assert b.flags.owndata or b.base is None or b.flags.writeable


@pytest.mark.parametrize("dtype", ["|O", "<c16", "<U3", "|V8", "|S4", "<M8[s]", "[('a', '<f8')]"])
def test_non_numeric_dtypes_are_refused_before_reading_the_payload(dtype):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_arrays([{"dtype": dtype, "shape": [1]}], b"\0" * 16, 1 << 20)


def test_pickle_payload_is_never_unpickled():
    evil = pickle.dumps(np.array([1.0], dtype=object))
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_arrays([{"dtype": "|O", "shape": [1]}], evil, 1 << 20)


@pytest.mark.parametrize("spec,payload", [
    ({"dtype": "<f8", "shape": [2]}, b"\0" * 8),  # payload too short
    ({"dtype": "<f8", "shape": [1]}, b"\0" * 16),  # payload too long
    ({"dtype": "<f8", "shape": [-1]}, b""),
    ({"dtype": "<f8", "shape": [1.5]}, b""),
    ({"dtype": "<f8", "shape": [True]}, b""),
    ({"dtype": "<f8", "shape": [1] * 9}, b"\0" * 8),
    ({"dtype": 5, "shape": [1]}, b""),
    ("not a dict", b""),
])
def test_malformed_specs_are_refused(spec, payload):
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_arrays([spec], payload, 1 << 20)


def test_size_cap_is_checked_from_the_header():
    with pytest.raises(protocol.ProtocolError, match="size cap"):
        protocol.decode_arrays([{"dtype": "<f8", "shape": [1 << 30]}], b"", 1 << 20)
