"""A data-only format between the grader and its sandboxed child.

A message is ``b"BNW1"``, the length of a JSON header (8 bytes, little endian),
the header, then the raw bytes of its arrays. In the header an array is
``{"__array__": [dtype, shape, offset, nbytes]}``, a :class:`Ref`
``{"__ref__": [name, index]}`` and a :class:`Call` ``{"__call__": {...}}``.
Reading never runs code: only JSON and ``np.frombuffer`` with whitelisted
dtypes, within limits on size, nesting, items per list or dict, string length,
integer range and array dimensions (checked before any arithmetic), so a hostile
child can make a message unreadable but nothing more.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

from .learner_calls import Call, Ref

MAGIC = b"BNW1"
DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")
MAX_HEADER_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 40  # nesting accepted in a header (records nest about 10 deep)
MAX_ITEMS = 4096  # items of one list or dict (a response's keys, a plan's records)
MAX_STRING = 10_000  # characters of one string
MAX_INT = 2**63  # integers beyond this range would overflow NumPy and float()
MAX_DIMENSION = 2**31


class WireError(ValueError):
    """A message that is malformed, too large or too deeply nested."""


def _pack(value: Any, arrays: list[np.ndarray], offset: list[int]) -> Any:
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype.name not in DTYPES:
            array = array.astype(np.float64)
        arrays.append(array)
        spec = [array.dtype.name, list(array.shape), offset[0], array.nbytes]
        offset[0] += array.nbytes
        return {"__array__": spec}
    if isinstance(value, Ref):
        return {"__ref__": [value.name, value.index]}
    if isinstance(value, Call):
        args = [_pack(a, arrays, offset) for a in value.args]
        return {
            "__call__": {
                "target": value.target,
                "args": args,
                "keep": value.keep,
                "names": list(value.names),
            }
        }
    if isinstance(value, dict):
        return {str(k): _pack(v, arrays, offset) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pack(v, arrays, offset) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def encode(value: Any) -> bytes:
    """``value`` (JSON-like data with arrays, :class:`Call` and :class:`Ref`) as one message."""
    arrays: list[np.ndarray] = []
    header = json.dumps(_pack(value, arrays, [0])).encode()
    return MAGIC + struct.pack("<Q", len(header)) + header + b"".join(a.tobytes() for a in arrays)


def _array(spec: object, body: memoryview) -> np.ndarray:
    if not (isinstance(spec, list) and len(spec) == 4):
        raise WireError("malformed array description")
    dtype, shape, offset, nbytes = spec
    if dtype not in DTYPES or not isinstance(shape, list) or len(shape) > 8:
        raise WireError(f"array of unexpected dtype or rank: {str(dtype)[:20]}")
    if not all(isinstance(n, int) and 0 <= n <= MAX_DIMENSION for n in shape):
        raise WireError("array with an invalid shape")
    if not (isinstance(offset, int) and isinstance(nbytes, int) and 0 <= offset):
        raise WireError("array with an invalid position")
    size = np.dtype(dtype).itemsize
    for n in shape:  # Python integers: no overflow, and no work beyond the body's size
        size *= n
        if size > len(body):
            break
    if size != nbytes or offset + nbytes > len(body):
        raise WireError("array bytes do not match its shape")
    return np.frombuffer(body[offset : offset + nbytes], dtype=dtype).reshape(shape).copy()


def _checked_scalar(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int) and -MAX_INT < value < MAX_INT:
        return value
    if isinstance(value, str) and len(value) <= MAX_STRING:
        return value
    raise WireError("a number or string beyond the limits")


def _unpack(value: Any, body: memoryview, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("message nested too deeply")
    if isinstance(value, (list, dict)) and len(value) > MAX_ITEMS:
        raise WireError(f"a list or dict of more than {MAX_ITEMS} items")
    if isinstance(value, list):
        return [_unpack(v, body, depth + 1) for v in value]
    if not isinstance(value, dict):
        return _checked_scalar(value)
    if len(value) == 1 and "__array__" in value:
        return _array(value["__array__"], body)
    if len(value) == 1 and "__ref__" in value:
        name, index = value["__ref__"]
        return Ref(str(name), index if isinstance(index, int) else None)
    if len(value) == 1 and "__call__" in value:
        spec = value["__call__"]
        args = tuple(_unpack(a, body, depth + 1) for a in spec["args"])
        return Call(
            str(spec["target"]), args, spec.get("keep"), tuple(map(str, spec.get("names", [])))
        )
    return {_checked_scalar(k): _unpack(v, body, depth + 1) for k, v in value.items()}


def decode(message: bytes) -> Any:
    """The value of a message from :func:`encode`.

    Raises
    ------
    WireError
        For anything malformed, too large or too deep; never runs code.
    """
    if len(message) < 12 or message[:4] != MAGIC:
        raise WireError("not a message (missing its signature)")
    (length,) = struct.unpack("<Q", message[4:12])
    if length > MAX_HEADER_BYTES or 12 + length > len(message):
        raise WireError("message header too large or cut short")
    try:
        header = json.loads(message[12 : 12 + length])
        return _unpack(header, memoryview(message)[12 + length :])
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError, MemoryError) as exc:
        raise WireError(f"unreadable message ({type(exc).__name__})") from None
