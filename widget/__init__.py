"""widget: see README."""
