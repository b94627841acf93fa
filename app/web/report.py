"""Text renderings of a session for people: chat messages, the step tracker, the scorecard and the downloadable report.

Everything here is pure: records in, strings out. Text written by the candidate is escaped wherever it is rendered as
Markdown or HTML, so markup in an answer is shown, never run.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterable
from typing import Any

from app.grading.scorecard import Scorecard
from app.knowledge.base import KnowledgeBase
from app.sessions.repository import SessionRecord, TurnRecord

AMBER_SHARE = 0.25  # the step clock turns amber when a quarter of the step's budget is left


def escape_text(text: str) -> str:
    """Text safe to show in a Markdown/HTML view: markup is displayed literally, line breaks are kept."""
    escaped = html.escape(text, quote=False)
    for char in "\\`*_{}[]()#+-!|~>":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def chat_messages(turns: Iterable[TurnRecord]) -> list[dict[str, str]]:
    """The chat as role/content messages; every text is escaped, the model's replies included."""
    return [
        {"role": "assistant" if t.role == "interviewer" else "user", "content": escape_text(t.content)} for t in turns
    ]


def clock_text(seconds_left: float) -> str:
    seconds = max(0, int(seconds_left))
    return f"{seconds // 60}:{seconds % 60:02d}"


def clock_state(seconds_left: float, budget_s: float) -> str:
    """green while there is time, amber in the last quarter of the budget, red once it has run out."""
    if seconds_left <= 0:
        return "red"
    return "amber" if seconds_left <= AMBER_SHARE * budget_s else "green"


def tracker_html(
    step_names: list[str],
    current: int,
    *,
    ended: bool,
    covered: int,
    partial: int,
    total: int,
    seconds_left: float,
    budget_s: float,
    stamp: float = 0.0,
) -> str:
    """The 7 steps (done, current, pending), the current step's coverage as counts, and its countdown.

    The countdown carries its start values (seconds left, budget, render stamp) so the page can keep it ticking."""
    rows = []
    for number, name in enumerate(step_names, start=1):
        status = "done" if ended or number < current else "current" if number == current else "pending"
        mark = {"done": "✓", "current": "▶", "pending": "·"}[status]
        rows.append(
            f'<li class="mi-step mi-{status}" aria-current="{"step" if status == "current" else "false"}">'
            f'<span aria-hidden="true">{mark}</span> {number}. {html.escape(name)}'
            f'<span class="mi-sr"> ({status})</span></li>'
        )
    parts = [f'<ol class="mi-steps" aria-label="Interview steps">{"".join(rows)}</ol>']
    if not ended:
        state = clock_state(seconds_left, budget_s)
        parts.append(
            f'<p class="mi-coverage">This step: {covered} of {total} points covered'
            + (f", {partial} in part" if partial else "")
            + "</p>"
        )
        parts.append(
            f'<p class="mi-clock mi-{state}" role="timer" data-left="{int(seconds_left)}" '
            f'data-budget="{int(budget_s)}" data-stamp="{stamp}">'
            f"Time left for this step: <b>{clock_text(seconds_left)}</b></p>"
        )
        hidden = "" if state == "red" else " hidden"
        parts.append(
            f'<p class="mi-move"{hidden}>Time is up for this step: wrap up, then press Next step when ready.</p>'
        )
    else:
        parts.append('<p class="mi-coverage">Interview finished.</p>')
    return f'<div class="mi-tracker">{"".join(parts)}</div>'


def concept_label(kb: KnowledgeBase, concept_id: str) -> str:
    """A concept as a reader finds it: its title and the knowledge file it lives in."""
    concept = kb.concepts.get(concept_id)
    if concept is None:
        return concept_id
    where = concept.file_title or concept.source
    return f"{concept.title} ({where})" if where else concept.title


def score_bar(score: float, width: int = 8) -> str:
    filled = round(score / 4 * width)
    return "█" * filled + "░" * (width - filled)


def scorecard_markdown(card: Scorecard, kb: KnowledgeBase, *, title: str = "Scorecard") -> str:
    """The scorecard for reading: overall, per-step bars with quoted evidence, red flags, feedback and study list."""
    lines = [f"## {title}", "", f"**Overall {card.overall:.1f} / 5 — {card.band.replace('_', ' ')}**", ""]
    if card.flags:
        lines += [f"_Notes: {', '.join(f.replace('_', ' ') for f in card.flags)}_", ""]
    if card.steps_not_reached:
        lines += [f"_Steps not reached: {', '.join(map(str, card.steps_not_reached))} (they count as not shown)._", ""]
    lines += ["| Step | Score | |", "|---|---|---|"]
    for step in card.steps:
        reached = "" if step.step not in card.steps_not_reached else " (not reached)"
        lines.append(f"| {step.step}. {step.name}{reached} | {step.score:.1f} / 4 | `{score_bar(step.score)}` |")
    lines.append("")
    for step in card.steps:
        shown = [i for i in step.items if i.verdict != "missing"]
        missing = [i for i in step.items if i.verdict == "missing"]
        lines.append(f"### {step.step}. {step.name}")
        for item in shown:
            quote = escape_text(item.evidence[0]) if item.evidence else ""
            lines.append(f"- **{item.verdict}**: {item.description}" + (f"  \n  > “{quote}”" if quote else ""))
        for item in missing:
            lines.append(f"- missing: {item.description}")
        lines.append("")
    lines += expectations_markdown(card)
    if card.red_flags:
        lines.append("### Red flags")
        for flag in card.red_flags:
            lines.append(f"- “{escape_text(flag.quote)}”: {flag.why} _(see {concept_label(kb, flag.section)})_")
        lines.append("")
    if card.overclaims:
        lines.append("### Stated as certain")
        count = len(card.overclaims)
        lines.append(f"_{count} sentences state as certain, universal or needless what a design weighs:_")
        lines += [f"- “{escape_text(q)}”" for q in card.overclaims]
        lines.append("")
    if card.waved_away:
        lines.append("### Waved away")
        lines.append("_Parts of the design dismissed: decisions an interviewer would ask you to defend._")
        lines += [f"- “{escape_text(q)}”" for q in card.waved_away]
        lines.append("")
    if card.narrative:
        lines += ["### Feedback", "", escape_text(card.narrative), ""]
    if card.study:
        lines.append("### Study")
        lines += [f"- {concept_label(kb, c)}" for c in card.study]
        lines.append("")
    return "\n".join(lines)


EXPECTATION_MARK = {"met": "✓ met", "partial": "◐ in part", "not_met": "✗ not met"}


def expectations_markdown(card: Scorecard) -> list[str]:
    """The question's own checklist: each expectation, whether the answer meets it, and the sentence that does."""
    found = card.expectations
    if found is None or not found.items:
        return []
    lines = [f"### This question's checklist ({found.tally})", ""]
    if found.borrowed:
        lines += [f"_This question is not in the bank; these are the expectations of {escape_text(found.source)}._", ""]
    for e in found.items:
        where = f"Step {e.step}: " if e.step else ""
        quote = f"  \n  > “{escape_text(e.evidence)}”" if e.evidence else ""
        lines.append(f"- **{EXPECTATION_MARK[e.verdict]}**: {where}{escape_text(e.text)}{quote}")
    lines.append("")
    return lines


def final_markdown(report: Any, kb: KnowledgeBase) -> str:
    """The end-of-session panel: the scorecard, the model-answer outline and the study plan (or drill scores)."""
    if report.mode == "drill" or report.scorecard is None:
        if not report.concept_scores:
            return "## Drill finished\n\nNo answers were scored."
        rows = [f"- {concept_label(kb, c)}: {s:.1f} / 4" for c, s in report.concept_scores.items()]
        return "## Drill scores\n\n" + "\n".join(rows)
    lines = [scorecard_markdown(report.scorecard, kb)]
    if report.outline:
        lines.append("### Model answer outline")
        for step, points in sorted(report.outline.items()):
            name = kb.rubric.step(int(step)).name
            lines.append(f"{step}. **{name}**: " + "; ".join(points))
        lines.append("")
    if report.study_plan:
        lines.append("### Study plan")
        for item in report.study_plan:
            concepts = ", ".join(concept_label(kb, c) for c in item.concepts) or "review the step's checklist"
            lines.append(f"- Step {item.step}, {item.name} ({item.score:.1f} / 4): {concepts}")
    return "\n".join(lines)


def transcript_markdown(turns: Iterable[TurnRecord]) -> str:
    lines = []
    for turn in turns:
        who = "Interviewer" if turn.role == "interviewer" else "You"
        lines.append(f"**{who}:** {escape_text(turn.content)}\n")
    return "\n".join(lines)


def report_markdown(record: SessionRecord, title: str, turns: list[TurnRecord], report: Any, kb: KnowledgeBase) -> str:
    """The whole session as one Markdown document: header, transcript, then the final panel."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created_at))
    head = (
        f"# Mock interview report: {escape_text(title)}\n\n"
        f"- Session: `{record.id}`\n- Mode: {record.mode}\n- Date: {when}\n"
    )
    body = final_markdown(report, kb) if report is not None else "_The session has not ended yet._"
    return f"{head}\n## Transcript\n\n{transcript_markdown(turns)}\n{body}\n"


def report_json(record: SessionRecord, title: str, turns: list[TurnRecord], report: Any) -> str:
    """The whole session as JSON: the transcript and the final report as the engine produced it."""
    data = {
        "session_id": record.id,
        "mode": record.mode,
        "title": title,
        "status": record.status,
        "created_at": record.created_at,
        "transcript": [{"role": t.role, "content": t.content, "at": t.created_at} for t in turns],
        "report": report.model_dump(mode="json") if report is not None else None,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
