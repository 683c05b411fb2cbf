"""Plausible's Stats API v1 over the query layer: parameters (params), the v1 filter
syntax (filters), the answers in v1's shapes (answers) and who may read what (access).

No second query engine: every number comes from `shared.reports`. The Flask view
(`beacon_app.stats_api.v1`) and the MCP server (`beacon_cli.mcp_server`) both call here,
so the two answer the same for the same question.
"""
