"""Read the release store's ``.npz`` files with the standard library only.

A release's ``tables.npz`` is a zip of ``.npy`` files (numpy's format: a magic string, a
header dict naming dtype and shape, then the raw little-endian data). The store writes
three dtypes only: ``<U{n}`` (fixed-width UTF-32 text), ``<i8`` and ``|b1``. This reader
turns each array into a plain Python list, so the scalar pricing core runs where numpy is
not installed (Pyodide in Excel on the web); the vectorised engine builds numpy arrays
from the same lists, so both executors see the same data.

Every fault a damaged file can have (truncated zip, CRC mismatch from a flipped bit,
a zlib error, a header that is not numpy's, a dtype we never write) becomes
:class:`DamagedFileError` naming the file and member.
"""

from __future__ import annotations

import ast
import gc
import sys
import zipfile
import zlib
from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from xlrate.errors import DataError

#: A column as the scalar core sees it.
Column = list[Any]  # str, int or bool values, by the array's dtype

_MAGIC = b"\x93NUMPY"
_KINDS = {"U": "text", "i": "integer", "b": "boolean"}


class DamagedFileError(DataError):
    """A store file that cannot be read back as what the store wrote."""


def _parse_header(name: str, raw: bytes) -> tuple[str, tuple[int, ...], int]:
    """(descr, shape, offset of the data) from the start of a ``.npy`` file."""
    if raw[:6] != _MAGIC or len(raw) < 10:
        raise ValueError(f"{name} is not a .npy array")
    major = raw[6]
    if major == 1:
        hlen, start = int.from_bytes(raw[8:10], "little"), 10
    elif major in (2, 3):
        hlen, start = int.from_bytes(raw[8:12], "little"), 12
    else:
        raise ValueError(f"{name}: unknown .npy version {major}")
    header = ast.literal_eval(raw[start : start + hlen].decode("latin-1"))
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise ValueError(f"{name}: the .npy header is not numpy's")
    descr, shape = header["descr"], header["shape"]
    if not isinstance(descr, str) or not isinstance(shape, tuple):
        raise ValueError(f"{name}: the .npy header is not numpy's")
    if header["fortran_order"] or len(shape) != 1 or not isinstance(shape[0], int):
        raise ValueError(f"{name}: expected a one-dimensional array, found shape {shape}")
    return descr, shape, start + hlen


def _decode(name: str, descr: str, length: int, data: bytes) -> Column:
    if descr == "<i8":
        if len(data) != 8 * length:
            raise ValueError(f"{name}: {len(data)} bytes for {length} integers")
        values = array("q")
        values.frombytes(data)
        if sys.byteorder != "little":
            values.byteswap()
        return values.tolist()
    if descr == "|b1":
        if len(data) != length:
            raise ValueError(f"{name}: {len(data)} bytes for {length} booleans")
        return [b != 0 for b in data]
    if descr.startswith("<U") and descr[2:].isdigit():
        width = int(descr[2:])
        if len(data) != 4 * width * length:
            raise ValueError(f"{name}: {len(data)} bytes for {length} texts of {width}")
        text = data.decode("utf-32-le")
        if width == 1:
            chars = list(text)
            return [c if c != "\0" else "" for c in chars] if "\0" in text else chars
        pieces = [text[i : i + width] for i in range(0, len(text), width)]
        return [t.rstrip("\0") for t in pieces] if "\0" in text else pieces
    raise ValueError(f"{name}: dtype {descr} is not one the store writes (<U, <i8, |b1)")


def dtype_kind(descr: str) -> str:
    """``U``, ``i`` or ``b`` for the dtypes the store writes (used by the checks)."""
    return "U" if descr.startswith("<U") else "i" if descr == "<i8" else "b"


class Tables(Mapping[str, Column]):
    """The arrays of one ``.npz`` as lists, each decoded on first use.

    Every member is read (so its CRC is checked) and its header parsed when the file is
    opened; the text columns are split into Python strings only when someone asks, so a
    single price does not pay for the columns it never reads.
    """

    def __init__(self, path: Path, raw: dict[str, tuple[str, int, bytes]]):
        self.path = path
        self._raw = raw
        self._decoded: dict[str, Column] = {}
        #: numpy dtype string and length of each array, for the store's checks.
        self.dtypes = {key: descr for key, (descr, _, _) in raw.items()}
        self.lengths = {key: length for key, (_, length, _) in raw.items()}

    def __getitem__(self, key: str) -> Column:
        found = self._decoded.get(key)
        if found is None:
            descr, length, data = self._raw[key]
            collecting = gc.isenabled()
            gc.disable()  # thousands of small strings and no cycles: GC passes only cost
            try:
                found = _decode(f"{self.path} ({key})", descr, length, data)
            except ValueError as exc:
                raise DamagedFileError(f"{self.path} is damaged: {exc}") from None
            finally:
                if collecting:
                    gc.enable()
            self._decoded[key] = found
        return found

    def numpy(self, key: str) -> Any:
        """The array as numpy reads it (a read-only view of the same bytes)."""
        import numpy as np  # lazy: only the vectorised engine asks; the scalar core never does

        descr, _, data = self._raw[key]
        return np.frombuffer(data, dtype=np.dtype(descr))

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def read_npz(path: Path) -> Tables:
    """The arrays of ``path`` (a ``.npz`` the store wrote), decoded lazily into lists.

    Raises :class:`DamagedFileError` (one line, naming the file) for any damage.
    """
    raw: dict[str, tuple[str, int, bytes]] = {}
    member = ""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                member = info.filename
                if not member.endswith(".npy"):
                    raise ValueError(f"{member} is not a .npy array")
                data = archive.read(info)  # checks the CRC: a flipped bit fails here
                descr, shape, offset = _parse_header(member, data)
                _check_size(member, descr, shape[0], len(data) - offset)
                raw[member[: -len(".npy")]] = (descr, shape[0], data[offset:])
    except FileNotFoundError:
        raise DamagedFileError(f"{path} is missing") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, SyntaxError) as exc:
        where = f" ({member})" if member else ""
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DamagedFileError(f"{path}{where} is damaged: {reason}") from None
    return Tables(path, raw)


def _check_size(name: str, descr: str, length: int, size: int) -> None:
    width = 8 if descr == "<i8" else 1 if descr == "|b1" else None
    if width is None and descr.startswith("<U") and descr[2:].isdigit():
        width = 4 * int(descr[2:])
    if width is None:
        raise ValueError(f"{name}: dtype {descr} is not one the store writes (<U, <i8, |b1)")
    if size != width * length:
        raise ValueError(f"{name}: {size} bytes of data for {length} values of {descr}")
