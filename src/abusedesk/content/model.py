"""A content model: a featurizer, a logistic regression over it, and its operating threshold.

Scores are probabilities that a message is spam (or scam, or phishing: whatever the positive
class of the training labels was). Scoring does not go through scikit-learn's checks: the
matrix is multiplied by the coefficients directly, which for a batch of one message is the
difference between 20 and 200 microseconds. One message at a time (detection) does not build a
matrix at all: `decision_one` is the same TF-IDF weighting and dot product over the message's
few hundred features in plain Python, since building a one-row SciPy matrix cost four times
what finding its features did (tests check it against scikit-learn's `predict_proba`).

Files are skops archives: a dict of plain values (numpy arrays, numbers, a JSON string) and the
fitted `LogisticRegression`. `load_model` refuses a file holding any type skops does not trust
by default, so a model file from elsewhere cannot run code when it is loaded.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from abusedesk.content.documents import CHANNELS, Channel, Document
from abusedesk.content.featurize import Featurizer
from abusedesk.errors import FormatError

if TYPE_CHECKING:
    # Imported where a model is fitted or loaded: scikit-learn costs seconds to import,
    # which every command (an ingest, a kill-and-rerun) paid at start-up, scoring or not.
    from sklearn.linear_model import LogisticRegression

FORMAT: Final = "abusedesk-content-model/1"


@dataclass
class ContentModel:
    channel: Channel
    featurizer: Featurizer
    classifier: LogisticRegression
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._coef = np.asarray(self.classifier.coef_, dtype=np.float64).ravel()
        self._intercept = float(np.asarray(self.classifier.intercept_).ravel()[0])
        # Python floats for decision_one: indexing a list is a tenth of indexing an array.
        self._coef_list: list[float] = self._coef.tolist()
        self._idf_list: list[float] = np.asarray(self.featurizer.idf, dtype=np.float64).tolist()
        # A feature seen once weighs (1 + log 1) * idf = idf exactly, so its two products are
        # the same floats computed once here; most features of a message occur once.
        self._once_dot = [i * c for i, c in zip(self._idf_list, self._coef_list, strict=True)]
        self._once_square = [i * i for i in self._idf_list]

    @classmethod
    def fit(
        cls,
        channel: Channel,
        docs: Sequence[Document],
        labels: Sequence[int] | NDArray[np.int_],
        *,
        c: float = 30.0,
    ) -> ContentModel:
        from sklearn.linear_model import LogisticRegression

        texts = [d.text for d in docs]
        extras = [d.extra for d in docs]
        # Emails are long: word pairs add little to them and cost a third of featurizing.
        featurizer = Featurizer.fit(texts, extras, bigrams=channel == "sms")
        matrix = featurizer.transform(texts, extras)
        classifier = LogisticRegression(C=c, max_iter=5000)
        classifier.fit(matrix, np.asarray(labels))
        return cls(channel, featurizer, classifier)

    def decision(self, docs: Sequence[Document]) -> NDArray[np.float64]:
        matrix = self.featurizer.transform([d.text for d in docs], [d.extra for d in docs])
        return np.asarray(matrix @ self._coef, dtype=np.float64) + self._intercept

    def scores(self, docs: Sequence[Document]) -> NDArray[np.float64]:
        """Probabilities (0..1) that each document is spam."""
        return np.asarray(1.0 / (1.0 + np.exp(-self.decision(docs))), dtype=np.float64)

    def decision_one(self, doc: Document) -> float:
        """`decision([doc])[0]` without a sparse matrix: Featurizer.transform's weights (damped
        count times IDF, scaled to unit length) dotted with the coefficients, per feature."""
        counts = Counter(self.featurizer.ids(doc.text, doc.extra))
        if not counts:
            return self._intercept
        idf = self._idf_list
        coef = self._coef_list
        dot = 0.0
        squares = 0.0
        once_dot = self._once_dot
        once_square = self._once_square
        for i, n in counts.items():
            if n == 1:
                dot += once_dot[i]
                squares += once_square[i]
            else:
                weight = (1.0 + math.log(n)) * idf[i]
                dot += weight * coef[i]
                squares += weight * weight
        return self._intercept + dot / math.sqrt(squares)

    def score(self, doc: Document) -> float:
        """The probability (0..1) that one document is spam (`scores([doc])[0]`, faster)."""
        z = self.decision_one(doc)
        # Either form is the logistic function; each keeps exp() from overflowing on its side.
        if z >= 0.0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def save(self, path: Path) -> None:
        import skops.io

        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT,
            "channel": self.channel,
            "vocabulary": np.asarray(self.featurizer.names, dtype=np.str_),
            "idf": self.featurizer.idf,
            "bigrams": self.featurizer.bigrams,
            "classifier": self.classifier,
            "threshold": float(self.threshold),
            "meta": json.dumps(self.meta, sort_keys=True),
        }
        skops.io.dump(payload, path, compression=8)  # ZIP_DEFLATED: a third of the size


def load_model(path: Path) -> ContentModel:
    """A model file; FormatError when it is not one, or holds types skops does not trust."""
    import zipfile

    import skops.io
    from sklearn.linear_model import LogisticRegression

    try:
        untrusted = skops.io.get_untrusted_types(file=path)
        if untrusted:
            raise FormatError(
                f"{path}: model file holds types that are not trusted: {', '.join(untrusted)}"
            )
        payload = skops.io.load(path, trusted=[])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: not a content model file ({exc})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise FormatError(f"{path}: not a content model file (format {FORMAT} expected)")
    channel = payload["channel"]
    if channel not in CHANNELS or not isinstance(payload["classifier"], LogisticRegression):
        raise FormatError(f"{path}: model file has an unknown channel or classifier")
    featurizer = Featurizer(
        [str(n) for n in payload["vocabulary"]],
        payload["idf"],
        bigrams=bool(payload.get("bigrams", True)),
    )
    meta = json.loads(payload["meta"])
    return ContentModel(channel, featurizer, payload["classifier"], payload["threshold"], meta)
