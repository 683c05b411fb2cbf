"""Downloads: DataFrames to CSV or Parquet bytes, safe to open in a spreadsheet.

Text cells a spreadsheet would run as a formula (a visitor could plant `=HYPERLINK(...)`
in a URL or property) get a leading apostrophe through the exports' one rule,
`shared.dataout.export.neutralise` (OWASP's advice; spreadsheets hide the apostrophe). Numbers
are left alone, so a negative number stays a number. Parquet keeps raw values: it is
read by programs, not spreadsheets.
"""

from __future__ import annotations

import io

import pandas as pd

from shared.dataout import export


def neutralise(value: object) -> object:
    return export.neutralise(value) if isinstance(value, str) else value


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [str(neutralise(str(c))) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    return csv_safe(df).to_csv(index=False).encode("utf-8")


def to_parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()
