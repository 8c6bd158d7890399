"""Render a notice from Jinja2 templates per policy and action.

Templates are looked up most specific first: <policy>/<action>.<part>.j2, default/<action>.<part>.j2,
default/any.<part>.j2, for each part (subject, text, html), in ABUSEDESK_NOTICE_TEMPLATES_PATH
and then the shipped folder. A name the context lacks renders as "[[FILL: name]]" and is
reported in `missing`: an analyst fills it (preview shows where), and a notice with anything
missing is refused at send time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    TemplateNotFound,
    Undefined,
    select_autoescape,
)

PARTS = ("subject", "text", "html")


def shipped_templates() -> Path:
    return Path(str(resources.files("abusedesk.notices") / "templates"))


def _blank(missing: set[str]) -> type[Undefined]:
    class Blank(Undefined):
        """An unfilled placeholder: renders visibly and is recorded."""

        def __str__(self) -> str:
            name = self._undefined_name or "value"
            missing.add(name)
            return f"[[FILL: {name}]]"

        def __iter__(self):  # type: ignore[no-untyped-def]
            missing.add(self._undefined_name or "value")
            return iter(())

        def __bool__(self) -> bool:
            return False

    return Blank


@dataclass
class Rendered:
    template: str
    subject: str
    text: str
    html: str
    missing: list[str] = field(default_factory=list)


class NoticeRenderer:
    def __init__(self, extra: Path | None = None) -> None:
        loaders = [FileSystemLoader(str(extra))] if extra else []
        loaders.append(FileSystemLoader(str(shipped_templates())))
        self.loader = ChoiceLoader(loaders)

    def _env(self, missing: set[str]) -> Environment:
        # One environment per render: the placeholder class records into this render's set.
        return Environment(
            loader=self.loader,
            undefined=_blank(missing),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    @staticmethod
    def _pick(env: Environment, policy: str, action: str, part: str) -> str:
        for name in (
            f"{policy}/{action}.{part}.j2",
            f"default/{action}.{part}.j2",
            f"default/any.{part}.j2",
        ):
            try:
                env.get_template(name)
            except TemplateNotFound:
                continue
            return name
        raise TemplateNotFound(f"default/any.{part}.j2")

    def render(self, policy: str, action: str, context: dict[str, Any]) -> Rendered:
        missing: set[str] = set()
        env = self._env(missing)
        names = {part: self._pick(env, policy, action, part) for part in PARTS}
        out = {part: env.get_template(n).render(**context) for part, n in names.items()}
        return Rendered(
            template=names["text"].removesuffix(".text.j2"),
            subject=" ".join(out["subject"].split()),
            text=out["text"],
            html=out["html"],
            missing=sorted(missing),
        )
