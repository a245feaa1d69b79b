"""The HTTP entry point: /api/v1 and the console share one ASGI app."""
