"""omnicap exporter: Qwen3-Omni-30B-A3B-Captioner (Qwen3OmniMoeThinkerForConditionalGeneration) -> ONNX model dir.

See docs/export.md and docs/model-format.md.
"""
