"""The /api functions' room: the Powertools resolver, pydantic schemas, idempotency.
The only part of the core that imports pydantic or Powertools (the redirect never does)."""
