"""Use cases. Each handler owns its transaction: repositories never commit."""
