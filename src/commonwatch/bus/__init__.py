"""NATS JetStream: subject names, stream setup, a lean pull consumer, the outbox relay."""
