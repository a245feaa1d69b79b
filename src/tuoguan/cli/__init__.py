"""The ``tuoguan`` command line (Typer + Rich)."""
