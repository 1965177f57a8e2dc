"""Runs template.yaml's API on this machine: no Docker, no AWS (see README, "Run locally")."""
