"""The dedupe stage: cleanup, exact and near-duplicate detection, story ids (the faust app is ``app.py``)."""
