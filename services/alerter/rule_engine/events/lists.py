"""Lists and regimes an object is reached through: "added to the list of those subject to an asset freeze".

Sanctions are often reported as a listing rather than as an act on the sanctions themselves: the
EU *added* eight people *to the list of those subject to restrictive measures*, Canada *listed*
five officers *under its sanctions regulations*, the Council *extended the list of persons
subject to an asset freeze to include* nine more. There the object word sits inside a phrase
naming a list or a regime (a *container*), and the container is what the verb acts on. This
module finds that container, so the event code can treat it as the object's stand-in, and names
the verbs that read a list's new members ("to include nine more").
"""

from __future__ import annotations

from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken

# Nouns that hold the people an object applies to, or the rules it is applied under.
CONTAINERS = frozenset({"list", "register", "registry", "regime", "programme", "program", "authority", "framework",
                        "regulation", "legislation", "law", "rule"})
# Verbs that put someone on a list or under a regime, used when an event condition names none.
DEFAULT_LISTING = ("add", "include", "list", "put", "place", "enter", "extend", "expand", "designate")
# "extended the list ... to include nine more officials": the verbs whose object is whom a list gains.
INCLUDING = frozenset({"include", "add", "cover"})
# Prepositions that put a container on the verb: "added to", "included in", "put on", "listed under".
CONTAINER_LINKS = frozenset({"to", "in", "on", "onto", "into", "under"})
# How an object may hang below its container: "the list of (persons) subject to sanctions", "the list
# of entities under an asset freeze", "the list of sanctioned entities", "its sanctions regime", "the
# framework for restrictive measures".
_PATH_ROLES = frozenset({"pobj", "dobj", "prep", "amod", "acl", "agent", "conj", "compound", "nmod"})
# How an object word modifies its container noun: "sanctions list"; the parser hangs the first of two
# coordinated modifiers as nmod ("a travel ban and asset freeze list").
_MODIFYING = frozenset({"compound", "nmod"})
_PATH_PREPOSITIONS = frozenset({"to", "of", "under", "by", "for"})
# How a container names what it holds: "the list of sanctioned entities", "the framework for restrictive measures".
_HOLDING = frozenset({"of", "for"})
_MAX_PATH = 6


def container_of(sentence: ParsedSentence, obj: ParsedToken) -> ParsedToken | None:
    """The list or regime noun the object is reached through ("sanctions list", "the list of those
    subject to sanctions"), or None. The path may pass nouns, adjectives ("subject") and participles
    ("persons targeted by sanctions", "those facing an asset freeze"), never a clause's verb: "the
    list of firms that evaded sanctions" is not reached."""
    current = obj
    for _ in range(_MAX_PATH):
        head = sentence.head(current)
        if head is None or current.dep not in _PATH_ROLES:
            return None
        if current.dep == "prep" and current.lower not in _PATH_PREPOSITIONS:
            return None
        if head.lemma in CONTAINERS and not head.is_verb and (current.dep in _MODIFYING or current.lower in _HOLDING):
            return head
        if head.is_verb and not (head.dep in ("acl", "amod") and head.tag in ("VBN", "VBG")):
            return None
        current = head
    return None


def is_container(token: ParsedToken) -> bool:
    return token.lemma in CONTAINERS and not token.is_verb


def new_members(sentence: ParsedSentence, verb: ParsedToken) -> list[ParsedToken]:
    """Whom a list gains when ``verb`` acts on the list itself: the object of "to include ..."."""
    return [member for clause in sentence.children[verb.index]
            if clause.dep in ("xcomp", "advcl") and clause.lemma in INCLUDING
            for member in sentence.children[clause.index] if member.dep == "dobj"]


def listing_verb_above(sentence: ParsedSentence, holder: ParsedToken, listing: set[int]) -> ParsedToken | None:
    """The listing verb a container phrase ("to the list of ...", "under its sanctions regime") belongs
    to: the verb it hangs on, or the verb whose object the parser hung it on instead, directly or
    through a clause describing that object. In "added 8 individuals and 2 entities to the list" and
    "listed four companies that make engines under its sanctions regime" it goes with the verb."""
    if holder.index in listing:
        return holder
    noun: ParsedToken | None = holder
    if holder.is_verb:
        noun = sentence.head(holder) if holder.dep in ("relcl", "acl") else None
    for _ in range(4):  # "8 individuals and 2 entities": from a conjunct to the first
        if noun is None or noun.dep != "conj":
            break
        noun = sentence.head(noun)
    if noun is None or noun.is_verb or noun.dep not in ("dobj", "nsubjpass"):
        return None
    governor = sentence.head(noun)
    return governor if governor is not None and governor.index in listing else None
