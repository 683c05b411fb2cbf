"""Rollups stage: mark days dirty (mark), rebuild them (build), read stored rows (read).

Kept empty on purpose: the beacon's writer imports shared.rollups.mark alone, and a package
__init__ that imported build or read would load the query model into the ingest path.
"""
