"""Initializers written once, straight to ``<graph>.onnx.data``, as they are produced.

The graph proto then only holds external-data references (name, dims, offset, length), so building a 20 GB decoder
never holds more than the tensor (or chunk) being written. With ``external=False`` (tiny fixtures) tensors are
inlined as raw_data instead. Files are made readable by everyone (0644): onnx.save_model writes 0600 data files.
"""
from __future__ import annotations

import os
from typing import Iterable

import numpy as np
import onnx
from onnx import TensorProto as TP

ALIGN = 64  # offsets aligned so ORT may memory-map the data file
INLINE_BELOW = 1024  # bytes; smaller tensors stay inside the graph proto

_NP2TP = {np.dtype(np.float32): TP.FLOAT, np.dtype(np.float16): TP.FLOAT16, np.dtype(np.int64): TP.INT64,
          np.dtype(np.int32): TP.INT32, np.dtype(np.uint8): TP.UINT8}


class TensorSink:
    def __init__(self, onnx_path: str, external: bool):
        self.onnx_path = onnx_path
        self.external = external
        self.location = os.path.basename(onnx_path) + ".data"
        self.data_path = onnx_path + ".data"
        for p in (onnx_path, self.data_path):
            if os.path.exists(p):
                os.remove(p)
        self._f = open(self.data_path, "wb") if external else None
        self.offset = 0
        self.bytes_external = 0

    def _proto(self, name: str, dtype: np.dtype, shape) -> onnx.TensorProto:
        t = onnx.TensorProto()
        t.name = name
        t.data_type = _NP2TP[np.dtype(dtype)]
        t.dims.extend(int(d) for d in shape)
        return t

    def add(self, name: str, arr: np.ndarray) -> onnx.TensorProto:
        arr = np.ascontiguousarray(arr)
        return self.add_chunks(name, arr.dtype, arr.shape, [arr])

    def add_chunks(self, name: str, dtype, shape, chunks: Iterable[np.ndarray]) -> onnx.TensorProto:
        """One tensor given as consecutive row-major chunks (e.g. a few experts at a time)."""
        dtype = np.dtype(dtype)
        t = self._proto(name, dtype, shape)
        total = int(np.prod(shape)) * dtype.itemsize
        if not self.external or total < INLINE_BELOW:
            buf = b"".join(np.ascontiguousarray(c, dtype=dtype).tobytes() for c in chunks)
            assert len(buf) == total, (name, len(buf), total)
            t.raw_data = buf
            return t
        pad = (-self.offset) % ALIGN
        if pad:
            self._f.write(b"\0" * pad)
            self.offset += pad
        start = self.offset
        for c in chunks:
            c = np.ascontiguousarray(c)
            assert c.dtype == dtype, (name, c.dtype, dtype)
            self._f.write(memoryview(c).cast("B"))
            self.offset += c.nbytes
        if self.offset - start != total:
            raise RuntimeError(f"{name}: wrote {self.offset - start} bytes, expected {total}")
        t.data_location = TP.EXTERNAL
        for k, v in (("location", self.location), ("offset", str(start)), ("length", str(total))):
            e = t.external_data.add()
            e.key, e.value = k, v
        self.bytes_external += total
        return t

    def save(self, model: onnx.ModelProto) -> str:
        """Writes the graph proto (references only) and closes the data file; both files 0644."""
        if self._f is not None:
            self._f.close()
            self._f = None
            os.chmod(self.data_path, 0o644)
        elif os.path.exists(self.data_path):
            os.remove(self.data_path)
        with open(self.onnx_path, "wb") as f:
            f.write(model.SerializeToString())
        os.chmod(self.onnx_path, 0o644)
        return self.onnx_path
