"""The guard against llama.cpp's AMX fault: decided from llama.cpp's own system report."""

from types import SimpleNamespace

from app.llm.model_server import plain_weight_buffers, uses_amx

SAPPHIRE_RAPIDS = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | REPACK = 1 |"
ZEN4 = "CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_BF16 = 1 | REPACK = 1 |"


def test_amx_is_read_from_llamas_system_report():
    assert uses_amx(SAPPHIRE_RAPIDS)
    assert not uses_amx(ZEN4)
    assert not uses_amx(SAPPHIRE_RAPIDS.replace("AMX_INT8 = 1", "AMX_INT8 = 0"))


def test_plain_weight_buffers_turn_off_extra_buffers_only():
    params = SimpleNamespace(use_extra_bufts=True, n_gpu_layers=0)
    assert plain_weight_buffers(params) is params
    assert params.use_extra_bufts is False
    assert params.n_gpu_layers == 0
