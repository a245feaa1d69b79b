"""In-app notifications for sellers and operators."""
