"""The console's date, time and number formats (``FORMAT_MODULE_PATH``), the same in Chinese and English.

Django's zh_Hans formats write a date three ways (2025年12月31日, 2025/12/31, 2025-12-31); the console writes
one date form, 2025-12-31, one date-time form, 2025-12-31 14:05, and groups thousands with a comma (622,111).
"""
