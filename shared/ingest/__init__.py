"""Ingest stage: what the beacon's writer needs to store events; never the read side."""
