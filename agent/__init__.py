"""frontdesk's agent package: the core domain, the storage adapters and the composition root."""
