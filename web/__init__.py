"""Plumbing the web adapters share (inbox, widget, channels): the services lookup,
staff sign-in and request protections, Socket.IO rooms and emitters, rate counters.

It imports the agent and Flask, and none of the adapters: they are peers on top of it.
"""
