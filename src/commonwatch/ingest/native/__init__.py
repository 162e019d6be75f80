"""Commonwatch's own JSON event format, spoken over HTTP and MQTT."""
