"""The AMX guard against the installed llama.cpp build: extra weight buffers are off exactly where AMX is used."""

import json
import subprocess
import sys

PROBE = """
import json
import llama_cpp
from app.llm.model_server import guard_amx, uses_amx
info = llama_cpp.llama_print_system_info().decode()
guarded = guard_amx()
print(json.dumps({"amx": uses_amx(info), "guarded": guarded,
                  "extra": bool(llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts)}))
"""


def test_guard_turns_extra_buffers_off_only_where_llama_cpp_uses_amx():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["guarded"] == found["amx"]
    assert found["extra"] is not found["amx"]
