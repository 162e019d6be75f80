"""Home Assistant alarm control panels over MQTT (see README.md)."""
