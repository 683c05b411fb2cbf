"""A large list of user-agent regexes matched cheaply: a literal-word prefilter, then
only the regexes whose word occurs.

The maintained bot lists hold 500-1,500 regexes each. Joined into one alternation,
Python's `re` tries every branch at every position of the string: ~4 ms for one
browser user agent. Nearly every regex contains a literal word ("GPTBot",
"facebookexternalhit"); one Aho-Corasick pass over the lower-cased user agent finds
which words occur, and only their regexes run (a few µs for a browser). The few
regexes without a literal word of three or more characters always run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Generic, TypeVar

import ahocorasick_rs

T = TypeVar("T")
_MIN_WORD = 3
_LITERAL, _BRANCH, _SUBPATTERN = sre_constants.LITERAL, sre_constants.BRANCH, \
    sre_constants.SUBPATTERN


def _alternatives(items: sre_parse.SubPattern) -> set[str] | None:
    """Words of which at least one occurs in every string the pattern matches, or None
    when no such set of words of `_MIN_WORD` characters or more can be named."""
    best: set[str] | None = None
    run: list[str] = []

    def take(words: set[str] | None) -> None:
        nonlocal best
        if words and (best is None or min(map(len, words)) > min(map(len, best))):
            best = words

    for op, arg in items:
        if op is _LITERAL:
            run.append(chr(arg))
            continue
        if len(run) >= _MIN_WORD:
            take({"".join(run).lower()})
        if op is _BRANCH:
            branches = [_alternatives(b) for b in arg[1]]
            if all(branches):
                take(set().union(*branches))  # type: ignore[arg-type]
            # re's parser moves a common prefix out: "BuiltWith|BW/" is "B(uiltWith|W/)"
            joined = {"".join(run) + _leading_text(b) for b in arg[1]}
            if run and all(len(w) >= _MIN_WORD for w in joined):
                take({w.lower() for w in joined})
        elif op is _SUBPATTERN:
            take(_alternatives(arg[-1]))
        run = []
    if len(run) >= _MIN_WORD:
        take({"".join(run).lower()})
    return best


def _leading_text(items: sre_parse.SubPattern) -> str:
    text = []
    for op, arg in items:
        if op is not _LITERAL:
            break
        text.append(chr(arg))
    return "".join(text)


def required_words(pattern: str, flags: int = 0) -> set[str] | None:
    """The prefilter words of a regex (public for the tests)."""
    try:
        return _alternatives(sre_parse.parse(pattern, flags))
    except (re.error, RecursionError):
        return None


def split_alternatives(pattern: str) -> list[str]:
    """A regex's top-level alternatives ("a|b(c|d)" -> ["a", "b(c|d)"]), so that each gets
    its own prefilter word; one catch-all entry of a list can hold a hundred of them."""
    parts, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":
                i += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


@dataclass(frozen=True)
class Rule(Generic[T]):
    """One regex of a list and what a match means (its family and category)."""

    regex: re.Pattern[str]
    value: T


class PatternSet(Generic[T]):
    """Regexes in list order; `first(ua)` is the value of the first one that matches."""

    def __init__(self, rules: Iterable[tuple[str, int, T]]) -> None:
        self.rules: list[Rule[T]] = []
        self.always: list[int] = []          # rules with no prefilter word
        words: dict[str, list[int]] = {}
        for pattern, flags, value in rules:
            try:
                regex = re.compile(pattern, flags)
            except re.error:
                continue   # a construct Python's re lacks: the other sources still apply
            index = len(self.rules)
            self.rules.append(Rule(regex, value))
            found = required_words(pattern, flags)
            if found is None:
                self.always.append(index)
            else:
                for word in found:
                    words.setdefault(word, []).append(index)
        self._words = list(words)
        self._rules_of = [words[w] for w in self._words]
        self._automaton = ahocorasick_rs.AhoCorasick(self._words) if self._words else None

    def candidates(self, user_agent: str) -> list[int]:
        """The indexes of the rules that may match, in list order."""
        found = set(self.always)
        if self._automaton is not None:
            for word_index, _start, _end in self._automaton.find_matches_as_indexes(
                    user_agent.lower(), overlapping=True):
                found.update(self._rules_of[word_index])
        return sorted(found)

    @classmethod
    def of_alternatives(cls, pattern: str, flags: int = 0) -> PatternSet[None]:
        """One regex of many alternatives ("a|b|c") as a prefiltered set."""
        return PatternSet((part, flags, None) for part in split_alternatives(pattern))

    def search(self, user_agent: str) -> re.Match[str] | None:
        """The match of the first rule that matches (as `re.search` of the whole list)."""
        found = self.first(user_agent)
        return found[1] if found else None

    def first(self, user_agent: str) -> tuple[T, re.Match[str]] | None:
        for index in self.candidates(user_agent):
            rule = self.rules[index]
            match = rule.regex.search(user_agent)
            if match:
                return rule.value, match
        return None
