"""Exceptions raised by the Sanad core.

Every message names the value, file or setting at fault and the command that fixes it,
so the command line and the bot can show it to a person as it is.

    SanadError
    ├── SettingsError        a setting has a value we cannot use
    ├── ArticleError         an article file or text cannot be read or is unusable
    ├── ModelError           the embedding model cannot be built or loaded
    ├── IndexStateError          the index folder is missing, stale or corrupt
    │   ├── IndexMissingError
    │   ├── IndexStaleError
    │   └── IndexCorruptError
    ├── QuestionError        the question itself is unusable (empty, ...)
    ├── CalibrationError     a calibration file cannot be read or does not fit the code
    └── EvalFileError        an evaluation file is not SQuAD v1.1 or v2.0 JSON
"""

from __future__ import annotations


class SanadError(Exception):
    """Base class: a problem a person can fix, described in its message."""


class SettingsError(SanadError):
    """A setting (environment variable or .env entry) has an unusable value."""


class ArticleError(SanadError):
    """An article cannot be read, or its text is unusable."""


class ModelError(SanadError):
    """The embedding model cannot be built or loaded."""


class IndexStateError(SanadError):
    """The index folder cannot be used as it is."""


class IndexMissingError(IndexStateError):
    """No index has been built yet in the index folder."""


class IndexStaleError(IndexStateError):
    """The index was built from other articles, another model or other settings."""


class IndexCorruptError(IndexStateError):
    """A file of the index folder is damaged; the message names it."""


class QuestionError(SanadError):
    """The question cannot be answered as asked (for example, it is empty)."""


class CalibrationError(SanadError):
    """A calibration file (SANAD_CALIBRATION, or the packaged one) cannot be used."""


class EvalFileError(SanadError):
    """An evaluation file is not SQuAD v1.1 or v2.0 JSON."""
