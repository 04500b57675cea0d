"""Spec text shared by the tests that write small workflows of their own."""

TWO_MODELS = """models:
  qwen3-1.7b: {litellm: hosted_vllm/Qwen/Qwen3-1.7B}
  qwen3-8b: {litellm: hosted_vllm/Qwen/Qwen3-8B}
"""
"""The `models:` section of a two-model pool (a cheap and a strong Qwen3)."""
