"""The event condition: who did what to whom, read from a dependency parse of the few sentences that could hold it.

``node.py`` is the compiled condition (which sentences are candidates, what fires); a candidate is
parsed once (``sentence_parse.py``, with ``object_phrases.py`` and ``parse_repairs.py`` around the
parser's known slips); ``constructions.py`` finds an action and its object (``lists.py`` for
designations to a list or regime), ``arguments.py`` and ``parties.py`` the target and source, and
``news_checks.py`` (with ``dates.py``) whether the sentence reports the event now. See docs/rules.md.
"""
