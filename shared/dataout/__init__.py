"""Data out: exports, DataFrames, backups and per-visitor privacy records."""
