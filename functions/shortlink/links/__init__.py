"""Links: the model and its fields' rules, create, patch, follow, list, and the links table."""
