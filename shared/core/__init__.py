"""Core: what every stage stands on: settings, the schema, records, ids, logs, migrations."""
