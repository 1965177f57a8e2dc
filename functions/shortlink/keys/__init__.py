"""API keys the service manages (POST /api/keys): their records, their secrets, who they let in."""
