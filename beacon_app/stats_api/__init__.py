"""The Stats API: request parsing (request), execution (run), HTTP (http), OpenAPI (openapi)."""
