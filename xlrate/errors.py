"""The one exception family of xlrate.

Every error a user can cause derives from :class:`XlrateError`; its message names the
input (file, row, column, value) and says what to do next. The CLI and the Excel skin show
the message as one line, never a traceback.

    XlrateError
    ├── InputError            bad value typed or passed (code, modifier, locality, year, option)
    │   ├── CodeError         a HCPCS code or modifier that is not valid syntax
    │   ├── RowError          a bad value in one row of a request table (row, column, detail)
    │   └── LocalityError     unknown locality id, ZIP or search with no match
    ├── DataError             the Medicare data needed is not available (year, release, GPCIs)
    ├── LayoutError           a CMS file whose columns do not match any known layout
    ├── ImportFileError       a practice file (fee schedule, 835) that cannot be read
    ├── MarketFileError       a payer's Transparency-in-Coverage file that cannot be read
    ├── UpdateError           download / verification / install of a CMS release failed
    ├── ReportError           the workbook could not be written
    ├── OutputError           an output path breaks the output rule (an input, a folder, exists)
    └── ShareError            email or shared-copy preparation failed
"""

from __future__ import annotations


class XlrateError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""


class InputError(XlrateError, ValueError):
    """A value passed by the user is not valid."""


class RowError(InputError):
    """A bad value in one row of a request table. ``row`` is its position (0: the first row),
    ``column`` its column and ``detail`` what is wrong; a caller that read the table from a
    file says the file and line instead (``xlrate price --input``)."""

    def __init__(self, row: int, column: str, detail: str):
        super().__init__(f"row {row + 1}, column {column}: {detail}")
        self.row, self.column, self.detail = row, column, detail


class CodeError(InputError):
    """A HCPCS code or modifier is not valid syntax."""


class LocalityError(InputError):
    """A locality id, ZIP code or locality search could not be resolved."""


class DataError(XlrateError):
    """The Medicare data asked for (year, release, GPCIs) is not available."""


class LayoutError(XlrateError):
    """A CMS file's columns match no known layout for its release."""


class ImportFileError(XlrateError):
    """A practice file (fee schedule, 835 remittance) cannot be read."""


class MarketFileError(XlrateError):
    """A payer's Transparency-in-Coverage file (or its table of contents) cannot be read."""


class UpdateError(XlrateError):
    """Downloading, verifying or installing a CMS release failed."""


class ReportError(XlrateError):
    """The analysis workbook could not be written."""


class OutputError(XlrateError):
    """An output path is an input, a folder, or an existing file without --force."""


class ShareError(XlrateError):
    """The shared copy or the email could not be prepared or sent."""
