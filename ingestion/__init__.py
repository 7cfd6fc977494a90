"""ingestion: see README."""
