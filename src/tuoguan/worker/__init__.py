"""The job loop: sweeps for due work."""
