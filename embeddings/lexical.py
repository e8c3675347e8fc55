"""Lexical terms for BM25 and for picking the answering sentence.

Text is folded (normalize.py), cut into words, stripped of function words, and stemmed
with Snowball (PyStemmer): the Arabic stemmer for Arabic-script words, the English one
for Latin-script words; numbers are kept whole.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

import Stemmer

from .normalize import normalize_arabic, words

# Texts whose terms an Analyzer remembers: a question reads ~50 (its passages, sentences and
# pairs of them), each ~1-2 KB remembered; 4,096 hold about 80 questions' worth, ~6 MB at most.
RECENT_TEXTS = 4096

# Function words that carry no topic: question words, prepositions, conjunctions,
# pronouns and auxiliaries, written as normalize_arabic folds them.
ARABIC_STOPWORDS = frozenset(
    """
    اذ اذا الا التي الذي الذين اللاتي اللتان اللذان اللواتي الي ام اما ان انا انت انتم انه انها او اي
    ايضا اين ايه ايها ب بعد بعض بل بين تكون تلك ثم جدا حتي حيث حين ذلك سوي علي عن عند عندما غير ف فقط في
    قبل قد ك كان كانت كانوا كل كم كيف ل لا لدي لكن لكي لم لماذا لن ما ماذا متي مع من منذ نحن هذا هذه هل
    هم هما هن هو هي و يا يكون
    """.split()
)
ENGLISH_STOPWORDS = frozenset(
    """
    a an and are as at be been by did do does for from how in is it its of on or that the these this
    those to was were what when where which who whom why with
    """.split()
)


def _is_latin(word: str) -> bool:
    return word.isascii() and not word.isdigit()


class Analyzer:
    """Turns text into stemmed terms; safe to share between threads. It remembers the terms of
    the last `remember` texts (None: of every text): each question reads the sentences of its
    passages again, and the questions of a chat, or about a popular article, come back to the
    same passages."""

    def __init__(self, remember: int | None = RECENT_TEXTS) -> None:
        self._arabic = Stemmer.Stemmer("arabic")
        self._english = Stemmer.Stemmer("english")
        self._lock = threading.Lock()  # PyStemmer stemmers are not thread-safe; guards _recent too
        self._recent: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._remember = remember

    def terms(self, text: str) -> list[str]:
        """Stemmed content terms of `text`, in order, repeats kept."""
        with self._lock:
            known = self._recent.get(text)
            if known is not None:
                self._recent.move_to_end(text)
                return list(known)
            out: list[str] = []
            for word in words(normalize_arabic(text)):
                if word in ARABIC_STOPWORDS or word in ENGLISH_STOPWORDS:
                    continue
                if word[0].isdigit():
                    out.append(word)
                elif _is_latin(word):
                    out.append(self._english.stemWord(word))
                else:
                    out.append(self._arabic.stemWord(word))
            if self._remember != 0:
                self._recent[text] = tuple(out)
                if self._remember is not None and len(self._recent) > self._remember:
                    self._recent.popitem(last=False)
        return out


class RememberingAnalyzer(Analyzer):
    """An Analyzer that remembers the terms of each text it analysed, until `keep_only` drops
    the texts no longer wanted. bm25s cannot add a document to an index, so a replica rebuilds
    its BM25 after each change of the library; with this, only the new passages are analysed
    (the analysis, not the BM25 arithmetic, is most of a rebuild). Use it for building only:
    questions would fill it."""

    def __init__(self) -> None:
        super().__init__(remember=None)

    def keep_only(self, texts: Iterable[str]) -> None:
        """Forget the terms of every text but these."""
        wanted = set(texts)
        with self._lock:
            self._recent = OrderedDict((text, terms) for text, terms in self._recent.items() if text in wanted)
