"""inbox: see README."""
