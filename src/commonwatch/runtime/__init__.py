"""Configuration, embedded servers and the one place that wires everything (bootstrap)."""
