"""Few-shot prompts, hierarchical generation, repair, LLM providers."""
