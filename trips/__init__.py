"""The trip register: who travelled where, when and with whom, as records whose every field cites its words.

model.py (Trip, Evidence), rules.py and llm.py (the two extractors), register.py (SQLite store, filters,
merging), update.py (keeping it in step with the index), extractors.py (choosing one by settings).
"""
