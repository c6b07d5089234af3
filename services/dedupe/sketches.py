"""MinHash signatures of word shingles, and the LSH band keys under which similar texts meet.

A signature estimates the Jaccard similarity of two texts' sets of ``SHINGLE_WORDS``-word
shingles. LSH cuts it into ``bands`` bands of ``rows`` values: two texts whose similarity is above
the threshold share at least one band with high probability, so only articles that share a band
are compared. The band and row counts are the ones datasketch's ``MinHashLSH`` chooses for the
threshold, so the Redis-backed index finds what datasketch's own index would.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from datasketch import LeanMinHash, MinHash, MinHashLSH

from services.dedupe.normalization import normalize_text

# Three-word shingles: long enough that two different stories on one topic share few of them,
# short enough that an edited sentence spoils only the shingles around the edit.
SHINGLE_WORDS = 3
# Below about fifty words a changed day, figure or name moves the similarity of two briefs by
# several points, so templated briefs of different events would merge; they are deduped exactly only.
MIN_SHINGLES = 50
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
SIGNATURE_BYTEORDER = "<"


def shingles(text: str) -> set[bytes]:
    """The text's overlapping ``SHINGLE_WORDS``-word sequences, normalized; a shorter text is one shingle."""
    words = normalize_text(text).split()
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[start:start + SHINGLE_WORDS]).encode() for start in range(len(words) - SHINGLE_WORDS + 1)}


@dataclass(frozen=True)
class Sketch:
    """A text's signature and LSH band keys; no band keys for a text too short to compare by similarity."""

    signature: LeanMinHash
    band_keys: list[str]


class Sketcher:
    """Signatures and band keys for one similarity threshold; cheap to call per article."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.bands, self.rows = lsh.b, lsh.r
        # Generating permutations is most of the cost of a fresh MinHash; every signature shares them.
        self._permutations = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations

    def sketch(self, text: str) -> Sketch:
        """The MinHash of the text's shingles, and its band keys when it has at least ``MIN_SHINGLES``."""
        text_shingles = shingles(text)
        minhash = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=self._permutations, scheme=SCHEME)
        minhash.update_batch(text_shingles)
        signature = LeanMinHash(minhash)
        return Sketch(signature, self.band_keys(signature) if len(text_shingles) >= MIN_SHINGLES else [])

    def band_keys(self, signature: LeanMinHash) -> list[str]:
        """One key per band; the band layout is part of the key, so a new threshold starts a new index."""
        values = signature.hashvalues
        return [
            f"{self.bands}x{self.rows}:{band}:"
            + hashlib.blake2b(values[band * self.rows:(band + 1) * self.rows].tobytes(), digest_size=8).hexdigest()
            for band in range(self.bands)
        ]


def signature_bytes(signature: LeanMinHash) -> bytes:
    """A signature as bytes for the store (datasketch's own serialization)."""
    buffer = bytearray(signature.bytesize(byteorder=SIGNATURE_BYTEORDER))
    signature.serialize(buffer, byteorder=SIGNATURE_BYTEORDER)
    return bytes(buffer)


def signature_from_bytes(data: bytes) -> LeanMinHash:
    """The inverse of ``signature_bytes``."""
    return LeanMinHash.deserialize(data, byteorder=SIGNATURE_BYTEORDER)
