"""Frigate NVR over MQTT: detections, review items and availability (see README.md)."""
