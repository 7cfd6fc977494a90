"""WhatsApp Business (Cloud API): webhooks in, the messages endpoint out, templates.

``webhook`` (the Flask blueprint) checks each POST's signature (the same scheme as
Messenger's) and enqueues it; the job hands it to ``WhatsAppInbound``, which reads the
events (``events``) into the inbox; ``WhatsAppSender`` sends replies and templates, and
``GraphTemplateSubmitter`` submits templates for review. The 24-hour window and the cap
on business-initiated conversations are the core's.
"""
