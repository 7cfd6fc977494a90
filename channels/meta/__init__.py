"""Facebook Messenger and Instagram direct messages, through Meta's webhooks and Send API.

``webhook`` (the Flask blueprint) checks each POST's signature and enqueues it; the job
hands it to ``MetaInbound``, which reads the events (``events``) into the inbox;
``MetaSender`` sends replies through the Graph API (``graph``). The reply windows
(24 hours, then 7 days for a person) are the core's channel policy.
"""
