"""channels: see README."""
