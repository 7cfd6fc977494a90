"""SMS and phone calls through Twilio: one number, signed webhooks, the official client.

``webhook`` (the Flask blueprint) checks ``X-Twilio-Signature`` with the ``twilio``
package's ``RequestValidator`` on every webhook; SMS and status callbacks are applied by
a worker (``TwilioInbound``), calls are answered at once with TwiML (``voice``).
``TwilioSmsSender`` sends texts with the package's REST client.
"""
