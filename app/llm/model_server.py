"""The model server process: llama-cpp-python's OpenAI-compatible server, with a guard for a llama.cpp fault.

llama.cpp moves a quantized model's weights into "extra" buffers for faster matrix kernels. On CPUs with Intel AMX
(Sapphire Rapids and later) a build that uses the AMX buffer crashes with a segmentation fault on the first prompt
longer than one token (ggml-org/llama.cpp#20824, no fix upstream), so every reply would kill the model server. Where
the build uses AMX, the extra buffers are turned off: the weights stay in plain CPU buffers, where prompts may be
evaluated more slowly than the AMX kernels would, but correctly. Elsewhere nothing changes.
"""

from __future__ import annotations

import logging
import runpy
from typing import Any

log = logging.getLogger(__name__)


def uses_amx(system_info: str) -> bool:
    """Whether llama.cpp's own system report says it runs AMX kernels on this CPU."""
    return "AMX_INT8 = 1" in system_info


def plain_weight_buffers(params: Any) -> Any:
    """Model parameters that keep every weight in a plain CPU buffer (no AMX or repacked copies)."""
    params.use_extra_bufts = False
    return params


def guard_amx() -> bool:
    """Turn off llama.cpp's extra weight buffers for every model this process loads, where the build uses AMX.
    Returns whether it did. Call before the first model is loaded."""
    import llama_cpp.llama as llama_module

    library = llama_module.llama_cpp
    info = library.llama_print_system_info()
    if not uses_amx(info.decode(errors="replace") if isinstance(info, bytes) else str(info)):
        return False
    defaults = library.llama_model_default_params
    if getattr(defaults, "plain_buffers", False):
        return True

    def default_params() -> Any:
        return plain_weight_buffers(defaults())

    default_params.plain_buffers = True  # type: ignore[attr-defined]
    library.llama_model_default_params = default_params
    log.info("llama.cpp uses AMX on this CPU: weights stay in plain CPU buffers (AMX kernels crash)")
    return True


def serve() -> None:
    """Entry point of the model server process: llama-cpp-python's OpenAI-compatible server, guarded."""
    guard_amx()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    serve()
