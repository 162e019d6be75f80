"""Road networks from OpenStreetMap and fast travel-time queries over them (see README.md)."""
