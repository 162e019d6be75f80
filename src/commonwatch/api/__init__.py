"""The HTTP API: app factory, routes per resource, schemas, and the one authentication check."""
