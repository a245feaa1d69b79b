"""/api/v1 routes: thin adapters from HTTP to the domain services."""
