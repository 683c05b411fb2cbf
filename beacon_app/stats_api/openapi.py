"""Stats API, describe step: the OpenAPI 3.1 document served at /api/v2/openapi.json.

Written by hand from the same tables the parser uses (metrics, dimensions, operators),
so the document cannot list a name the endpoint refuses.
"""

from __future__ import annotations

from typing import Any

from beacon_app.stats_api.request import DIMENSIONS, MAX_LIMIT, METRICS, OPERATORS, TIME_DIMENSIONS
from shared.core.bot_categories import BotCategory

_SIMPLE_FILTER = {
    "type": "array", "minItems": 3, "maxItems": 4,
    "description": 'A filter ["operator", "dimension", [values]] (+ {"case_sensitive": false} '
                   'on contains); several values mean "any of". `matches` takes wildcards: * '
                   '(not across /) and ** (anything).',
    "prefixItems": [
        {"type": "string", "enum": list(OPERATORS)},
        {"type": "string", "description": "a visit:, event:, event:goal or event:props:<key> "
                                          "dimension"},
        {"type": "array", "minItems": 1, "items": {"type": ["string", "number"]}},
        {"type": "object"},
    ],
}
_FILTER = {
    "description": 'A simple filter, or ["and"|"or", [filters]], ["not", filter], '
                   '["has_done"|"has_not_done", filter]. Filters in the list are ANDed.',
    "anyOf": [
        _SIMPLE_FILTER,
        {"type": "array", "minItems": 2, "maxItems": 2,
         "prefixItems": [{"enum": ["and", "or"]}, {"type": "array"}]},
        {"type": "array", "minItems": 2, "maxItems": 2,
         "prefixItems": [{"enum": ["not", "has_done", "has_not_done"]}, {"type": "array"}]},
    ],
}

_QUERY = {
    "type": "object", "required": ["site_id", "metrics", "date_range"],
    "additionalProperties": False,
    "properties": {
        "site_id": {"type": "string", "description": "the site's domain", "example": "example.com"},
        "metrics": {"type": "array", "minItems": 1,
                    "items": {"type": "string", "enum": list(METRICS)}},
        "date_range": {
            "description": 'A period in the site\'s timezone: "realtime" / "30m" (the last 30 '
                           'minutes), "day" (today), "<N>d" (N days ending today), "<N>mo" '
                           '(this month and N-1 before), "month", "year", "all", [first, '
                           'last] ISO dates (inclusive) or two ISO date-times with an offset.',
            "oneOf": [
                {"type": "string",
                 "pattern": r"^(realtime|30m|day|month|year|all|\d{1,3}d|\d{1,3}mo)$"},
                {"type": "array", "minItems": 2, "maxItems": 2,
                 "items": {"type": "string"}},
            ],
        },
        "dimensions": {"type": "array", "maxItems": 3, "items": {
            "type": "string", "description": "a time dimension and one other, or up to two "
                                             "others",
            "anyOf": [{"enum": [*TIME_DIMENSIONS, "event:goal", *DIMENSIONS]},
                      {"pattern": "^event:props:.+$"}]}},
        "filters": {"type": "array", "items": _FILTER},
        "order_by": {"type": "array", "items": {
            "type": "array", "minItems": 2, "maxItems": 2,
            "prefixItems": [{"type": "string"}, {"enum": ["asc", "desc"]}]}},
        "include": {"type": "object", "additionalProperties": False, "properties": {
            "imports": {"type": "boolean", "description": "accepted; there are no imports"},
            "time_labels": {"type": "boolean"}, "total_rows": {"type": "boolean"},
            "comparisons": {"type": "object", "properties": {
                "mode": {"enum": ["previous_period", "year_over_year", "custom"]},
                "date_range": {"type": "array", "minItems": 2, "maxItems": 2,
                               "items": {"type": "string", "format": "date"}}},
                "required": ["mode"]}}},
        "pagination": {"type": "object", "additionalProperties": False, "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "offset": {"type": "integer", "minimum": 0}}},
    },
}

_RESULT = {
    "type": "object", "required": ["results", "meta", "query"],
    "properties": {
        "results": {"type": "array", "items": {
            "type": "object", "required": ["metrics", "dimensions"],
            "properties": {
                "metrics": {"type": "array", "items": {"type": ["number", "null"]},
                            "description": "in the order of the request's metrics"},
                "dimensions": {"type": "array", "items": {"type": "string"},
                               "description": "in the order of the request's dimensions"}}}},
        "meta": {"type": "object", "properties": {
            "time_labels": {"type": "array", "items": {"type": "string"}},
            "total_rows": {"type": "integer"}, "imports_included": {"type": "boolean"},
            "source": {"type": "string", "enum": ["rollup", "raw", "mixed"]}}},
        "query": {"type": "object", "description": "the query as resolved (dates made "
                                                   "absolute, defaults filled in)"},
    },
}

_ERROR = {"type": "object", "required": ["error"], "properties": {
    "error": {"type": "string"}, "reasons": {"type": "array", "items": {"type": "string"}}}}


# POST /api/v2/bots (stats_bots.py): dropped bot hits per UTC day, category and family.
_BOT_CATEGORIES = [c.value for c in BotCategory]
_BOTS_QUERY = {"type": "object", "required": ["site_id"], "additionalProperties": False,
               "properties": {
    "site_id": {"type": "string", "description": "the site's domain"},
    "date_range": {"description": "as in /api/v2/query, resolved in UTC; default 30d",
                   "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"},
                                                   "minItems": 2, "maxItems": 2}]},
    "dimensions": {"type": "array", "uniqueItems": True, "description":
                   "default [\"category\", \"family\"]",
                   "items": {"enum": ["day", "category", "family"]}},
    "categories": {"type": "array", "items": {"enum": _BOT_CATEGORIES}},
    "pagination": {"type": "object", "properties": {
        "limit": {"type": "integer", "minimum": 1, "maximum": 10000}}},
}}
_BOTS_RESULT = {"type": "object", "required": ["results", "total", "query"], "properties": {
    "results": {"type": "array", "items": {"type": "object", "properties": {
        "dimensions": {"type": "array", "items": {"type": "string"}},
        "metrics": {"type": "array", "items": {"type": "integer"},
                    "description": "[hits]"}}}},
    "total": {"type": "integer", "description": "all bot hits of the range"},
    "query": {"type": "object"},
}}


def _response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the Stats API."""
    error = {"$ref": "#/components/schemas/Error"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Beacon Analytics Stats API", "version": "2.0.0",
                 "description": "Aggregated, read-only statistics of one site per request, "
                                "in the request shape of Plausible's Stats API v2."},
        "paths": {"/api/v2/query": {"post": {
            "operationId": "query", "summary": "Metrics over a period, grouped and filtered",
            "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Query"}}}},
            "responses": {
                "200": _response("the results", {"$ref": "#/components/schemas/Result"}),
                "400": _response("the query is invalid; `reasons` lists every problem", error),
                "401": _response("no or an unknown/revoked API key", error),
                "403": _response("the key belongs to another site", error),
                "404": _response("no such site", error),
            }}},
            "/api/v2/bots": {"post": {
                "operationId": "bots",
                "summary": "Dropped bot hits per UTC day, category and agent family",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/BotsQuery"}}}},
                "responses": {
                    "200": _response("the counts", {"$ref": "#/components/schemas/BotsResult"}),
                    "400": _response("the query is invalid; `reasons` lists every problem",
                                     error),
                    "401": _response("no or an unknown/revoked API key", error),
                    "403": _response("the key belongs to another site", error),
                }}}},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "a key from `beacon keys create`"}},
            "schemas": {"Query": _QUERY, "Result": _RESULT, "Error": _ERROR,
                        "BotsQuery": _BOTS_QUERY, "BotsResult": _BOTS_RESULT},
        },
    }
