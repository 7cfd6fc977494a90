"""The application shell: the composition root, the command line, the web app factory and
the WSGI entry point. It imports every other package and is imported by none of them.
"""
