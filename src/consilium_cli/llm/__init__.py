"""Models and engines: the llama.cpp engine, the model registry, OpenAI-compatible clients."""
