"""`delegations bench`: what ingest and questions cost (speed.py), and retrieval at scale (scale.py)."""
