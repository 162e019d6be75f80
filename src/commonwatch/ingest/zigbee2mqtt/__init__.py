"""Zigbee2MQTT: device state changes, availability and the bridge's own state (see README.md)."""
