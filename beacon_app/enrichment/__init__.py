"""Enrichment stage of the beacon: pure functions that turn request strings into event fields.

One noun per module (client_ip, url, campaign, referrer, spam, bots, user_agent, geo,
language, visitor). Nothing here imports Flask: the pipeline calls these with plain
strings, and every string is treated as hostile.
"""
