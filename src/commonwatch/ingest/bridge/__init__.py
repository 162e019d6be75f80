"""The bridge: MQTT messages of device ecosystems in, allowlisted native events out.

Raw messages are never persisted: they arrive on core NATS subjects of the embedded MQTT listener
(or from external brokers), are parsed by their source's parser, and only what the parser keeps
goes on to JetStream (events) and PostgreSQL (positions, states, evidence links).
"""
