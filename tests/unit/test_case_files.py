from pathlib import Path

import pytest

from app.evaluation import conversations as eval_conversations
from app.evaluation import grading as eval_grading
from app.evaluation import retrieval as eval_retrieval
from app.evaluation.cases import CaseFileError
from app.settings import PROJECT_DIR


def test_bad_line_is_named(tmp_path: Path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a", "query": "q", "relevant_terms": ["x"]}\n\n{"id": "b"}\n')
    with pytest.raises(CaseFileError, match=r"cases.jsonl:3: not a valid retrieval case"):
        eval_retrieval.load_cases(path)
    with pytest.raises(CaseFileError, match="not found"):
        eval_grading.load_cases(tmp_path / "missing.jsonl")


def test_the_project_case_files_load():
    grading = eval_grading.load_cases(PROJECT_DIR / "eval" / "cases" / "grading.jsonl")
    conversations = eval_conversations.load_cases(PROJECT_DIR / "eval" / "cases" / "conversations.jsonl")
    assert len(grading) >= 25 and {c.band for c in grading} == {"strong", "partial", "weak", "off_topic", "adversarial"}
    assert len(conversations) >= 8
    assert {
        "answer_seeker",
        "idk",
        "long_paste",
        "mixed_language",
        "off_topic",
        "strong",
        "empty",
        "prompt_extraction",
    } <= {c.kind for c in conversations}
