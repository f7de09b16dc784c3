"""Spreadsheet cells that are safe to open: a value a spreadsheet would read as a formula
(it begins with =, +, -, @, or a tab or carriage return that some programs strip first) is
prefixed with an apostrophe, so it shows as the text it is (OWASP "CSV injection")."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values):
    return [safe_cell(v) for v in values]
