"""Imports stage: history from elsewhere into Beacon (server access logs, our own events
exports, ...).

Log sources are parsed into the beacon's own `RawHit`s and enriched by the same steps as
live hits (the beacon hands its enrichment in, see `log_import.Enrich`), then stored in
resumable batches. `records.py` keeps the imports table (what was imported, where it
stopped); `visits.py` gives import days their own throwaway salts and 30-minute visits.
`events.py` reads an events export (Parquet, NDJSON) back, row for row.
"""
