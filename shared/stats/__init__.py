"""Query model: StatsQuery, filters, dimensions, result shapes and the SQL over raw events."""
