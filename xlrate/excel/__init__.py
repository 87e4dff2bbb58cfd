"""The Excel skin: worksheet functions (xlwings UDFs), button macros, the macro workbook.

- :mod:`xlrate.excel.functions`: ``PCT_MEDICARE``, ``MEDICARE_RATE``, ``MEDICARE_LOCALITY``.
- :mod:`xlrate.excel.buttons`: what each button does, on an openpyxl workbook, plus the
  thin RunPython entry points that find the calling book.
- :mod:`xlrate.excel.addin`: builds the macro workbook (``xlrate addin build``).
"""
