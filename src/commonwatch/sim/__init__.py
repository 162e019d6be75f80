"""The demo district and its simulator: a living city district for `commonwatch up --demo`.

district.py builds the places and devices (pure), scenarios.py says what they report and when
(pure, time passed in), seed.py writes the district to the registry, simulator.py publishes over
MQTT through the same ingest as real devices.
"""
