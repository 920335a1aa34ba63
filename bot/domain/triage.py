"""Triage: what a complaint is about (domain) and whom (department), from the nlp leaf."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nlp import Classification, Classifier, DepartmentEntry, DepartmentMatcher, DepartmentMention
from nlp.similarity import Fingerprint


@dataclass(frozen=True)
class Triage:
    classification: Classification
    departments: list[DepartmentMention]
    confident: bool
    # The text's tokens, from the classifier's own segmentation: the fingerprint needs no second one.
    tokens: Sequence[str] = ()

    def fingerprint(self) -> Fingerprint:
        """`Triager.fingerprint` of the stripped text (what a draft keeps), from the tokens already cut.

        jieba cuts every whitespace character (and "\r\n") into a token of its own, never into a word, so
        the stripped text's tokens are these without the leading and trailing whitespace ones."""
        tokens = self.tokens
        start, end = 0, len(tokens)
        while start < end and tokens[start].isspace():
            start += 1
        while end > start and tokens[end - 1].isspace():
            end -= 1
        return Fingerprint.of(tokens[start:end])


class Triager:
    """One classifier and one department matcher, built once and shared by every update."""

    def __init__(self, classifier: Classifier, entries: Iterable[DepartmentEntry]) -> None:
        self.classifier = classifier
        self.load_directory(entries)

    def load_directory(self, entries: Iterable[DepartmentEntry]) -> None:
        entries = list(entries)
        self.matcher = DepartmentMatcher(entries)
        self.classifier.add_words([e.name for e in entries] + [a for e in entries for a in e.aliases])

    def triage(self, text: str) -> Triage:
        classification, tokens = self.classifier.classify_and_tokenize(text)
        return Triage(
            classification=classification,
            departments=self.matcher.find(text),
            confident=classification.confidence >= self.classifier.CONFIDENCE_THRESHOLD,
            tokens=tokens,
        )

    def fingerprint(self, text: str) -> Fingerprint:
        """MinHash of the text's tokens, for duplicate detection."""
        return Fingerprint.of(self.classifier.tokenize(text))

    def search_departments(self, query: str, limit: int = 8) -> list[DepartmentEntry]:
        return self.matcher.search(query, limit=limit)
