"""OwnTracks: positions of on-duty patrol and response units (see README.md)."""
