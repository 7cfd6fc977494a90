"""evals: see README."""
