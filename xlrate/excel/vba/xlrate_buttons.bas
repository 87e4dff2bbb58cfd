Attribute VB_Name = "xlrate_buttons"
' The buttons of the xlrate workbook.
'
' Each button runs Python through xlwings' RunPython (the standalone xlwings module in
' this workbook). The work itself is done by xlrate.excel.buttons, which works on an
' openpyxl workbook as well; these macros only hand over the click.
' Works on Windows and Mac Excel. The Python interpreter comes from the xlwings.conf
' sheet (Interpreter_Win / Interpreter_Mac) or from ~/.xlwings/xlwings.conf.
Option Explicit

Public Sub RefreshMedicareRates()
    RunPython "import xlrate.excel.buttons as b; b.refresh_medicare_rates_clicked()"
End Sub

Public Sub RebuildAnalysis()
    RunPython "import xlrate.excel.buttons as b; b.rebuild_analysis_clicked()"
End Sub

Public Sub PrepareToShare()
    RunPython "import xlrate.excel.buttons as b; b.prepare_to_share_clicked()"
End Sub

Public Sub EmailWorkbook()
    RunPython "import xlrate.excel.buttons as b; b.email_clicked()"
End Sub
