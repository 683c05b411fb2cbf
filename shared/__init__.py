"""Beacon Analytics' common package: settings, schema, storage, queries.

Imports neither Flask nor Streamlit, so the beacon, the dashboard, the worker and
data people's notebooks all share it.
"""
