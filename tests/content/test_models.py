"""Content models: training, the registry's versions, skops files, the shipped defaults."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from abusedesk.content.datasets import read_dataset
from abusedesk.content.documents import event_document, sms_document
from abusedesk.content.model import load_model
from abusedesk.content.registry import ModelRegistry, shipped_path
from abusedesk.content.scorer import ContentScorer, shipped_scorer
from abusedesk.content.training import best_point, train
from abusedesk.errors import FormatError, InputError, NotFoundError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

SPAM = [
    "WINNER! You have won a £{n}00 prize. Call 0906{n}123456 to claim now",
    "URGENT: your account is locked, verify at http://bank-secure{n}.com/login",
    "Free entry to win a new phone! Txt WIN to 8{n}121 now, T&C apply",
    "Congratulations, claim your cash reward of ${n}000 today at www.prize{n}.net",
]
HAM = [
    "Are we still meeting for lunch at {n} tomorrow?",
    "Can you pick up some milk on the way home, thanks",
    "I'll be late tonight, the train is delayed by {n} minutes",
    "Happy birthday! Hope you have a great day, see you on the {n}th",
]


def write_tsv(path: Path) -> Path:
    lines = ["label\ttext"]
    for n in range(1, 13):
        lines += [f"spam\t{t.format(n=n)}" for t in SPAM]
        lines += [f"ham\t{t.format(n=n)}" for t in HAM]
    lines.append("maybe\tan unknown label is skipped with its line number")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_tsv_dataset_keeps_good_rows_and_names_bad_lines(tmp_path: Path) -> None:
    dataset = read_dataset([str(write_tsv(tmp_path / "sms.tsv"))])
    assert dataset.counts() == (48, 48)
    assert dataset.skipped == [f"{tmp_path / 'sms.tsv'}:98: unknown label 'maybe'"]


def test_mbox_and_maildir_take_their_class_from_the_name(tmp_path: Path) -> None:
    mbox = b"From a@b Mon\nSubject: one\n\n>From the start\n\nFrom c@d Tue\nSubject: two\n\nbody\n"
    (tmp_path / "spam.mbox.gz").write_bytes(gzip.compress(mbox))
    inbox = tmp_path / "mail" / "cur"
    inbox.mkdir(parents=True)
    (inbox / "1").write_bytes(b"Subject: hello\n\nsee you\n")
    dataset = read_dataset([str(tmp_path / "spam.mbox.gz"), f"{tmp_path / 'mail'}:ham"])
    assert [s.label for s in dataset.samples] == [1, 1, 0]
    first = dataset.samples[0].raw or b""
    assert b"\nFrom the start" in first  # the mboxo escape is taken off
    with pytest.raises(InputError, match="cannot tell its class"):
        read_dataset([str(tmp_path / "mail")])


def test_train_save_promote_and_score_through_the_registry(tmp_path: Path) -> None:
    dataset = read_dataset([str(write_tsv(tmp_path / "sms.tsv"))])
    model, figures = train("sms", dataset.samples, folds=3)
    assert figures["operating_point"]["f1"] > 0.9
    assert {row["threshold"] for row in figures["thresholds"]} >= {0.5, 0.9}
    registry = ModelRegistry(tmp_path / "models")
    first = registry.save(model, "mine", figures)
    second = registry.save(model, "mine", figures)
    assert (first.ref, second.ref) == ("mine/v1", "mine/v2")
    assert registry.active_ref("sms") == "default"
    assert registry.promote("sms", "mine").ref == "mine/v2"  # a bare name: its newest version
    scorer = ContentScorer.for_registry(registry)
    assert scorer.paths["sms"] == second.path
    spam = scorer({"channel": "sms", "body": "WINNER! You have won a £500 prize. Call 09061234567"})
    ham = scorer({"channel": "sms", "body": "Are we still meeting for lunch tomorrow?"})
    assert spam is not None
    assert ham is not None
    assert spam > 0.5 > ham
    assert scorer({"channel": "voice", "body": "x"}) is None
    with pytest.raises(NotFoundError):
        registry.promote("sms", "nothing")
    loaded = load_model(second.path)
    assert loaded.meta["version"] == "v2"
    docs = [sms_document(t) for t in ("Free prize, call now", "see you at home")]
    assert np.allclose(loaded.scores(docs), model.scores(docs))


def test_model_files_with_untrusted_types_are_refused(tmp_path: Path) -> None:
    import os

    import skops.io
    from sklearn.preprocessing import FunctionTransformer

    hostile = tmp_path / "hostile.skops"
    skops.io.dump(
        {"format": "abusedesk-content-model/1", "x": FunctionTransformer(os.system)}, hostile
    )
    with pytest.raises(FormatError, match="not trusted"):
        load_model(hostile)
    (tmp_path / "junk.skops").write_bytes(b"not a zip")
    with pytest.raises(FormatError):
        load_model(tmp_path / "junk.skops")


def test_operating_point_respects_the_false_positive_bound() -> None:
    labels = np.array([0] * 100 + [1] * 10)
    scores = np.concatenate([np.linspace(0, 0.95, 100), np.linspace(0.5, 1.0, 10)])
    best = best_point(labels, scores, 0.01)
    assert best.fpr <= 0.01
    assert best.threshold > 0.94


def test_shipped_models_load_from_the_package_and_separate_the_classes() -> None:
    for channel in ("sms", "email"):
        assert shipped_path(channel).exists()
        assert shipped_path(channel).stat().st_size < 5_000_000
    scorer = shipped_scorer()
    spam = scorer(
        {
            "channel": "sms",
            "body": "URGENT! You have won a 1 week FREE membership in our £100,000 Prize Jackpot! Txt CLAIM to 81010",
        }
    )
    ham = scorer({"channel": "sms", "body": "Ok lar, I'll call you when I get home tonight"})
    assert spam is not None
    assert spam > 0.9
    assert ham is not None
    assert ham < 0.1
    mail = {
        "channel": "email",
        "subject": "Re: patch for the build script",
        "body": "Thanks, I applied your patch to the tree; the tests pass on my machine now.",
        "from": "dev@lists.example.org",
    }
    found = event_document(mail)
    assert found is not None
    assert found[0] == "email"
    assert (scorer(mail) or 1.0) < 0.5


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data beside the checkout")
def test_shipped_sms_model_ranks_the_shared_collection() -> None:
    from abusedesk.content.training import roc_auc

    dataset = read_dataset([str(SHARED / "sms-spam-collection" / "train.tsv")])
    model = shipped_scorer().model("sms")
    assert model is not None
    samples = dataset.samples[:1000]
    scores = model.scores([sms_document(s.text or "") for s in samples])
    assert roc_auc(np.array([s.label for s in samples]), scores) > 0.99
    assert model.meta["figures"]["operating_point"]["f1"] >= 0.96
    assert model.meta["figures"]["operating_point"]["fpr"] <= 0.005
