"""Tests of the beacon enrichment steps."""
