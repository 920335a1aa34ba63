"""Triage: what a complaint is about (domain) and whom (department), from the nlp leaf."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nlp import Classification, Classifier, DepartmentEntry, DepartmentMatcher, DepartmentMention
from nlp.similarity import Fingerprint


@dataclass(frozen=True)
class Triage:
    classification: Classification
    departments: list[DepartmentMention]
    confident: bool


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
        classification = self.classifier.classify(text)
        return Triage(
            classification=classification,
            departments=self.matcher.find(text),
            confident=classification.confidence >= self.classifier.CONFIDENCE_THRESHOLD,
        )

    def fingerprint(self, text: str) -> Fingerprint:
        """MinHash of the text's tokens, for duplicate detection."""
        return Fingerprint.of(self.classifier.tokenize(text))

    def search_departments(self, query: str, limit: int = 8) -> list[DepartmentEntry]:
        return self.matcher.search(query, limit=limit)
