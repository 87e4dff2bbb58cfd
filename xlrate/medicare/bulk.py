"""Price a CSV file of requests in chunks: flat memory, the library's speed.

``xlrate price --input FILE`` reads the file ``CHUNK_ROWS`` rows at a time, prices each
chunk with :func:`xlrate.medicare.pricing.price` and writes it out before reading the next:
memory stays flat whatever the file's size, and no Python runs per row (the output is
written by pandas' CSV writer, not a row-by-row one).

The file's encoding is found the way the fee schedule reader finds it (a UTF-8 or UTF-16
byte-order mark, else UTF-8, else Windows cp1252); an empty or binary file, or one without
a ``code`` column, stops with one line naming the file. A row with neither a locality
nor a ZIP is priced only when the command says where (``--locality``, ``--zip`` or
``--national``), as for codes typed on the command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from xlrate.errors import InputError, RowError
from xlrate.text import csv_encoding

if TYPE_CHECKING:
    import pandas as pd

CHUNK_ROWS = 100_000
_SNIFF_BYTES = 1 << 16
# OWASP's CSV-injection rule: text starting with these becomes a formula in a spreadsheet.
_FORMULA_START = r"^[=+\-@\t\r]"


def text_encoding(path: Path) -> str:
    """The encoding to read ``path`` with; InputError (one line) for an empty or binary file.

    The rule every CSV input shares (:func:`xlrate.text.csv_encoding`).
    """
    return csv_encoding(path, what="request CSV")


def _blank(column: pd.Series) -> pd.Series:
    return column.fillna("").astype("str").str.strip() == ""


def _guard(column: pd.Series) -> pd.Series:
    """Text that a spreadsheet would run as a formula, prefixed with ``'`` (vectorised)."""
    import pandas as pd  # lazy: see price_csv

    if isinstance(column.dtype, pd.CategoricalDtype):  # few distinct values: guard those
        names = column.cat.categories.astype("str")
        risky = names.str.match(_FORMULA_START)
        if not risky.any():
            return column
        guarded = [f"'{n}" if r else n for n, r in zip(names, risky, strict=True)]
        if len(set(guarded)) == len(guarded):
            return column.cat.rename_categories(guarded)
        column = column.astype("str")
    text = column.fillna("").astype("str")
    flagged: pd.Series = text.str.match(_FORMULA_START)
    return text.where(~flagged, "'" + text) if flagged.any() else text


def _money_text(amounts: pd.Series) -> Any:
    """Dollars as ``12.30`` text (blank for no amount), built by numpy's string ufuncs.

    pandas' ``float_format`` formats each value in Python: at a million rows that is
    the slowest part of writing the file.
    """
    import numpy as np  # lazy: see price_csv

    cents = np.round(amounts.to_numpy(dtype=np.float64) * 100.0)
    ok = ~np.isnan(cents)
    whole = np.where(ok, cents, 0).astype(np.int64)
    dollars = np.char.add((whole // 100).astype(str), ".")
    text = np.char.add(dollars, np.char.zfill((whole % 100).astype(str), 2))
    return np.where(ok, text, "").astype(object)


def price_csv(
    path: str | Path,
    out: TextIO,
    *,
    columns: list[str],
    fmt: str = "csv",
    locality: str | None = None,
    zip: str | None = None,  # noqa: A002 - the public name users know
    national: bool = False,
    chunk_rows: int | None = None,
    **price_args: Any,
) -> int:
    """Price every request of the CSV at ``path`` and write ``columns`` to ``out``.

    ``fmt`` is ``csv``, ``json`` (an array of records) or ``table`` (aligned per chunk).
    Returns the number of requests priced.
    """
    import pandas as pd  # lazy: bulk work only; `xlrate price CODES` never loads pandas

    from xlrate.medicare.pricing import (  # lazy: the engine with its numpy, on use
        price,
    )  # lazy: loaded on use, keeping this module's import light

    path = Path(path)
    encoding = text_encoding(path)
    says_where = bool(locality or zip or national)
    done = 0
    if fmt == "json":
        out.write("[")
    try:
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            encoding_errors="replace",
            compression=None,  # a CSV named .zip or .gz is read as the text it is
            chunksize=chunk_rows or CHUNK_ROWS,
        )
        for chunk in reader:
            chunk.columns = [str(c).strip().lower() for c in chunk.columns]
            if "code" not in chunk.columns:
                raise InputError(
                    f"{path}: no 'code' column (found {', '.join(map(str, chunk.columns))}): "
                    "the header row needs code, and optionally modifier, locality or zip, "
                    "setting or pos"
                )
            if not says_where:
                where = pd.Series(True, index=chunk.index)
                for name in ("locality", "zip"):
                    if name in chunk.columns:
                        where &= _blank(chunk[name])
                if where.any():
                    line = done + int(where.to_numpy().argmax()) + 2  # the header is line 1
                    raise InputError(
                        f"{path}, line {line}: no locality or ZIP for this request: fill in "
                        "the locality or zip column, or say where for such rows with "
                        "--locality 01112-05, --zip 94110 or --national"
                    )
            try:
                priced = price(chunk, locality=locality, zip=zip, national=national, **price_args)
            except RowError as exc:  # the chunk's row -> the file's line (header: line 1)
                raise InputError(
                    f"{path}, line {done + exc.row + 2}, column {exc.column}: {exc.detail}"
                ) from None
            if "units" in priced.columns:  # 2, not 2.0: each distinct value worded once
                index, values = pd.factorize(priced["units"])
                priced["units"] = pd.Categorical.from_codes(
                    index, categories=pd.Index([f"{float(u):g}" for u in values])
                )
            _write(priced, out, columns, fmt, first=done == 0)
            done += len(chunk)
    except pd.errors.EmptyDataError:
        raise InputError(
            f"{path} has no header row: give a CSV whose first line names the columns "
            "(code, modifier, locality or zip, setting or pos)"
        ) from None
    except pd.errors.ParserError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "unreadable"
        raise InputError(f"{path} is not a CSV file xlrate can read ({reason})") from None
    if fmt == "json":
        out.write("]\n" if done == 0 else "\n]\n")
    return done


def _csv_lines_arrow(priced: pd.DataFrame, columns: list[str]) -> str | None:
    """The chunk's CSV lines built by Arrow compute (C loops), or None without pyarrow.

    Same text as pandas' writer with QUOTE_MINIMAL (a field with a comma, quote or line
    break is quoted, quotes doubled), formula-looking text prefixed with ``'``, amounts
    with two decimals; pandas' writer costs about 10 us a row, this a fraction of one.
    """
    try:
        import pyarrow as pa  # lazy: pyarrow loads on use
        import pyarrow.compute as pc  # lazy: pyarrow loads on use
    except ImportError:
        return None
    import numpy as np  # lazy: see price_csv
    import pandas as pd  # lazy: pandas loads on use

    fields = []
    for name in columns:
        if name not in priced.columns:
            fields.append(pa.array([""] * len(priced), type=pa.string()))
            continue
        column = priced[name]
        if name.endswith("_amount"):
            cents = np.round(column.to_numpy(dtype=np.float64) * 100.0)
            ok = ~np.isnan(cents)
            whole = pa.array(np.where(ok, cents, 0).astype(np.int64))
            dollars = pc.divide(whole, 100)
            rest = pc.subtract(whole, pc.multiply(dollars, 100))
            text = pc.binary_join_element_wise(
                pc.cast(dollars, pa.string()),
                pc.utf8_lpad(pc.cast(rest, pa.string()), 2, "0"),
                ".",
            )
            fields.append(pc.if_else(pa.array(ok), text, pa.scalar("", pa.string())))
            continue
        if name == "year":
            fields.append(pc.cast(pa.array(column.to_numpy(dtype=np.int64)), pa.string()))
            continue
        if isinstance(column.dtype, pd.CategoricalDtype):  # few distinct texts: escape those
            values = pa.array(column)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            escaped = _csv_text(pc.cast(values.dictionary, pa.string()))
            fields.append(pc.fill_null(pc.take(escaped, values.indices), ""))
            continue
        values = pa.array(column.astype("str"))
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        fields.append(_csv_text(pc.fill_null(pc.cast(values, pa.string()), "")))
    lines = pc.binary_join_element_wise(*fields, ",")
    lines = pc.binary_join_element_wise(lines, "", "\n").cast(pa.large_string())
    if len(lines) == 0:
        return ""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, end = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    return str(lines.buffers()[2].to_pybytes()[start:end].decode("utf-8"))


def _csv_text(text: Any) -> Any:
    """Arrow strings as CSV fields: formula-looking text gets ``'``, then minimal quoting."""
    import pyarrow as pa  # lazy: only reached when _csv_lines_arrow imported it
    import pyarrow.compute as pc  # lazy: pyarrow loads on use

    first = pc.utf8_slice_codeunits(text, 0, 1)
    risky = pc.is_in(first, value_set=pa.array(["=", "+", "-", "@", "\t", "\r"]))
    text = pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)
    quote = pc.match_substring(text, ",")
    for char in ('"', "\n", "\r"):
        quote = pc.or_(quote, pc.match_substring(text, char))
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(quote, quoted, text)


def _write(priced: pd.DataFrame, out: TextIO, columns: list[str], fmt: str, first: bool) -> None:
    import pandas as pd  # lazy: see price_csv

    if fmt == "csv":
        lines = _csv_lines_arrow(priced, columns)
        if lines is not None:
            out.write((",".join(columns) + "\n" if first else "") + lines)
            return
    frame = pd.DataFrame(index=priced.index)
    for name in columns:
        column = priced[name] if name in priced.columns else pd.Series("", index=priced.index)
        if name.endswith("_amount"):
            frame[name] = _money_text(column)
        else:
            frame[name] = column if name == "year" else _guard(column)
    if fmt == "csv":
        frame.to_csv(out, header=first, index=False, lineterminator="\n")
        return
    if fmt == "json":
        records = frame.astype(object).to_dict("records")
        text = json.dumps(records, indent=2, default=str)[1:-1].strip("\n")
        if text:
            out.write(("\n" if first else ",\n") + text)
    else:
        text = frame.to_string(index=False, header=first, justify="left")
        out.write(text.rstrip() + "\n")
