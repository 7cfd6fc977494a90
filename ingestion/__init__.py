"""Knowledge ingestion: crawl websites and parse uploads into a per-workspace index.

Every source becomes a ``document.Document``; ``chunk`` splits it, ``embed`` and
``index`` store it in Chroma, ``jobs`` runs all of it as rq jobs that take ids.
"""
