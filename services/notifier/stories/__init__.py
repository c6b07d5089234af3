"""Story updates: when a story that alerted grew enough to tell its subscribers again.

``growth.py`` holds the pure rules (outlet thresholds, new entities, the interval), ``store.py`` the
story state in Redis, changed once per event, and ``updates.py`` what the notifier's agents call.
"""
