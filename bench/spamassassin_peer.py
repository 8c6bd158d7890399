"""SpamAssassin side by side with our email model, on the same cross-validation folds.

For each of the k stratified folds that `content/training.py` uses (same seed, same order of
messages), SpamAssassin's Bayes database is trained with `sa-learn` on the other k-1 folds,
then the fold's messages (every `stride`-th, to bound the time) are checked by one long-lived
Perl process that loads SpamAssassin once (no per-message start-up in the timing), with
network tests off (`local_tests_only`: no DNS blocklists, Razor or Pyzor, as on an isolated
host). SpamAssassin's verdict is its own: score >= 5.0 (`required_score` default).

Needs the Debian package `spamassassin` (its rules ship in /usr/share/spamassassin). Used by
`bench/content.py --peer spamassassin`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Reads file names on stdin, prints "index<TAB>score<TAB>is_spam" per message and, at the end,
# "cpu<TAB>seconds" (user+system CPU of the checks alone, after loading the rules).
CHECKER = r"""
use strict; use warnings;
use Mail::SpamAssassin;
my ($site) = @ARGV;
my $sa = Mail::SpamAssassin->new({
    site_rules_filename => $site,
    userprefs_filename  => "$site/user_prefs",
    local_tests_only    => 1,
    dont_copy_prefs     => 1,
});
$sa->init(1);
$| = 1;
my @t0 = times();
while (my $line = <STDIN>) {
    chomp $line;
    my ($index, $file) = split /\t/, $line, 2;
    open(my $fh, '<:raw', $file) or die "cannot read $file: $!";
    local $/; my $text = <$fh>; close $fh;
    my $mail = $sa->parse($text);
    my $status = $sa->check($mail);
    printf "%s\t%.3f\t%d\n", $index, $status->get_score(), $status->is_spam() ? 1 : 0;
    $status->finish(); $mail->finish();
}
my @t1 = times();
printf "cpu\t%.3f\n", ($t1[0] - $t0[0]) + ($t1[1] - $t0[1]);
"""

SYSTEM_SITE = Path("/etc/spamassassin")
SITE_CONFIG = """use_bayes 1
bayes_auto_learn 0
bayes_path {bayes}
use_razor2 0
use_pyzor 0
skip_rbl_checks 1
"""


def available() -> bool:
    return shutil.which("sa-learn") is not None and shutil.which("perl") is not None


def _write(folder: Path, raws: Sequence[bytes], indices: Sequence[int]) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in indices:
        path = folder / f"{i}.eml"
        path.write_bytes(raws[i])
        paths.append(path)
    return paths


def _fold_site(root: Path) -> Path:
    """A site configuration folder: the system's plugin loaders (*.pre: Bayes is a plugin) and
    a local.cf pointing Bayes at this fold's own database."""
    site = root / "site"
    site.mkdir(parents=True)
    for pre in SYSTEM_SITE.glob("*.pre"):
        shutil.copy(pre, site / pre.name)
    (site / "local.cf").write_text(SITE_CONFIG.format(bayes=root / "bayes" / "bayes"))
    (site / "user_prefs").write_text("")
    (root / "bayes").mkdir()
    return site


def _learn(site: Path, ham: Path, spam: Path) -> None:
    for flag, folder in (("--ham", ham), ("--spam", spam)):
        subprocess.run(
            ["sa-learn", "--siteconfigpath", str(site), "--no-sync", flag, str(folder)],
            check=True,
            capture_output=True,
        )
    subprocess.run(
        ["sa-learn", "--siteconfigpath", str(site), "--sync"], check=True, capture_output=True
    )


def _check(site: Path, files: list[tuple[int, Path]]) -> tuple[dict[int, float], float]:
    script = site / "check.pl"
    script.write_text(CHECKER)
    stdin = "".join(f"{i}\t{path}\n" for i, path in files)
    done = subprocess.run(
        ["perl", str(script), str(site)], input=stdin, capture_output=True, text=True, check=True
    )
    scores: dict[int, float] = {}
    cpu = 0.0
    for line in done.stdout.splitlines():
        key, value, *_ = line.split("\t")
        if key == "cpu":
            cpu = float(value)
        else:
            scores[int(key)] = float(value)
    return scores, cpu


def side_by_side(
    raws: Sequence[bytes],
    labels: Sequence[int],
    ours: np.ndarray[Any, np.dtype[np.float64]],
    our_threshold: float,
    *,
    folds: int = 5,
    seed: int = 0,
    stride: int = 1,
) -> dict[str, Any]:
    """SpamAssassin's figures and ours (out-of-fold `ours`, at `our_threshold`) on the same
    checked messages."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    checked: dict[int, float] = {}
    cpu = 0.0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sa-peer-") as tmp:
        split = StratifiedKFold(folds, shuffle=True, random_state=seed).split(y, y)
        for k, (train, test) in enumerate(split):
            root = Path(tmp) / f"fold{k}"
            site = _fold_site(root)
            ham = [int(i) for i in train if y[i] == 0]
            spam = [int(i) for i in train if y[i] == 1]
            _write(root / "ham", raws, ham)
            _write(root / "spam", raws, spam)
            _learn(site, root / "ham", root / "spam")
            sample = [int(i) for i in test][::stride]
            paths = _write(root / "test", raws, sample)
            scores, fold_cpu = _check(site, list(zip(sample, paths, strict=True)))
            checked.update(scores)
            cpu += fold_cpu
    index = np.array(sorted(checked))
    truth = y[index]
    theirs = np.array([checked[i] for i in index]) >= 5.0
    mine = ours[index] >= our_threshold
    return {
        "messages_checked": len(index),
        "spam_checked": int(truth.sum()),
        "spamassassin": {**_figures(truth, theirs), "cpu_ms_per_message": _per(cpu, len(index))},
        "ours_same_messages": _figures(truth, mine),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "setup": "SpamAssassin 4 rules + Bayes trained per fold, network tests off, score >= 5",
    }


def _per(seconds: float, count: int) -> float:
    return round(1000 * seconds / count, 1) if count else 0.0


def _figures(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> dict[str, float]:
    tp = int(np.sum(predicted & (truth == 1)))
    fp = int(np.sum(predicted & (truth == 0)))
    fn = int(np.sum(~predicted & (truth == 1)))
    negatives = int(np.sum(truth == 0))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "fpr": round(fp / negatives, 4) if negatives else 0.0,
    }
