"""The email channel's provider parts: parse, thread, guard against loops, compose, send.

Pure functions and small I/O adapters with explicit dependencies; the channel machinery
(accounts, deliver job, settings) wires them together.
"""
