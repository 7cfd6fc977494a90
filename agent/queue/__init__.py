"""Background work: the embedded Redis, rq jobs, locks and failure records."""
