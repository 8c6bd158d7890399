"""Model versions under ABUSEDESK_HOME/models, and the shipped defaults.

    models/<channel>/<name>/v<N>.skops   a trained model (N counts up per name)
    models/<channel>/<name>/v<N>.json    its figures, for listing without loading it
    models/<channel>/ACTIVE              "<name>/v<N>": the version detection scores with

Without ACTIVE a channel scores with the model shipped in the package
(`abusedesk/content/models/<channel>-default.skops`), which `promote default` returns to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Final

from abusedesk.content.documents import CHANNELS, Channel
from abusedesk.content.model import ContentModel, load_model
from abusedesk.errors import InputError, NotFoundError

DEFAULT: Final = "default"
_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_VERSION: Final = re.compile(r"v(\d+)")


def shipped_path(channel: Channel) -> Path:
    return Path(str(resources.files("abusedesk.content") / "models" / f"{channel}-default.skops"))


@dataclass(frozen=True)
class Version:
    channel: Channel
    name: str
    version: str  # "v3", or "shipped" for the package's model
    path: Path
    figures: dict[str, Any]
    active: bool

    @property
    def ref(self) -> str:
        return DEFAULT if self.version == "shipped" else f"{self.name}/{self.version}"


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, model: ContentModel, name: str, figures: dict[str, Any]) -> Version:
        if not _NAME.fullmatch(name) or name == DEFAULT:
            raise InputError(f"model name {name!r}: lower-case letters, digits, . _ - only")
        folder = self.root / model.channel / name
        folder.mkdir(parents=True, exist_ok=True)
        numbers = [
            int(m.group(1)) for p in folder.glob("v*.skops") if (m := _VERSION.fullmatch(p.stem))
        ]
        version = f"v{max(numbers, default=0) + 1}"
        model.meta.update({"name": name, "version": version, "figures": figures})
        model.save(folder / f"{version}.skops")
        (folder / f"{version}.json").write_text(json.dumps(figures, indent=2, sort_keys=True))
        return Version(model.channel, name, version, folder / f"{version}.skops", figures, False)

    def active_ref(self, channel: Channel) -> str:
        marker = self.root / channel / "ACTIVE"
        return marker.read_text().strip() if marker.exists() else DEFAULT

    def versions(self, channel: Channel) -> list[Version]:
        active = self.active_ref(channel)
        shipped = shipped_path(channel)
        found = [Version(channel, DEFAULT, "shipped", shipped, {}, active == DEFAULT)]
        folder = self.root / channel
        for path in sorted(folder.glob("*/v*.skops")) if folder.is_dir() else []:
            sidecar = path.with_suffix(".json")
            figures = json.loads(sidecar.read_text()) if sidecar.exists() else {}
            ref = f"{path.parent.name}/{path.stem}"
            found.append(
                Version(channel, path.parent.name, path.stem, path, figures, ref == active)
            )
        return found

    def find(self, channel: Channel, ref: str) -> Version:
        versions = self.versions(channel)
        for version in versions:
            if version.ref == ref:
                return version
        named = [v for v in versions if v.name == ref and v.version != "shipped"]
        if named:  # a bare name: its newest version
            return max(named, key=lambda v: int(v.version[1:]))
        raise NotFoundError(f"no {channel} model {ref!r} (see: abusedesk model list)")

    def promote(self, channel: Channel, ref: str) -> Version:
        version = self.find(channel, ref)
        if version.version != "shipped":
            load_model(version.path)  # refuse a file that would not load at scoring time
        marker = self.root / channel / "ACTIVE"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(version.ref + "\n")
        return version

    def active_path(self, channel: Channel) -> Path:
        ref = self.active_ref(channel)
        return shipped_path(channel) if ref == DEFAULT else self.find(channel, ref).path


def all_versions(registry: ModelRegistry) -> list[Version]:
    """Every version of every channel; the shipped ones with the figures stored inside them."""
    found = []
    for channel in CHANNELS:
        for version in registry.versions(channel):
            if version.version == "shipped" and version.path.exists():
                figures = load_model(version.path).meta.get("figures", {})
                version = replace(version, figures=figures)  # noqa: PLW2901
            found.append(version)
    return found
