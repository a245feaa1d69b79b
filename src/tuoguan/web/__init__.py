"""The server-rendered console (Jinja2), in Chinese and English."""
