"""The agent core: domain model, ports, rules and the conversation service.

Nothing here imports Flask, rq, Chroma, SQLAlchemy or a channel; adapters plug in
through the protocols in ``ports``.
"""
