"""The ner stage: sentences and canonical entities from spaCy (articles.unique -> articles.enriched)."""
