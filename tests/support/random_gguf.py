"""Write random-weight qwen2 GGUF files for tests and benchmarks.

No weights can be downloaded here or in CI, so the tests generate their own model: a
real qwen2 graph with a byte-level BPE vocabulary (every UTF-8 byte is a token, so
Russian text is split across tokens and exercises streaming detokenisation) and the
ChatML template. `QWEN25_15B` has Qwen2.5-Coder-1.5B's exact shapes; quantised to Q4_K_M
it runs at the real model's speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


@dataclass(frozen=True)
class Shape:
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int
    n_ctx_train: int = 32768
    tied_embeddings: bool = True
    # Keep end-of-generation tokens out of free sampling (they still end grammar-constrained
    # output, where they are the only allowed token), so generation lengths are predictable.
    suppress_eos: bool = False


# The tiny model has its own output matrix: with tied embeddings a random model only
# repeats its last token, and tests want varied text.
TINY = Shape(n_layer=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, n_vocab=512,
             n_ctx_train=4096, tied_embeddings=False, suppress_eos=True)
QWEN25_15B = Shape(n_layer=28, n_embd=1536, n_head=12, n_head_kv=2, n_ff=8960,
                   n_vocab=151936)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + \
        list(range(0xAE, 0x100))
    chars = list(keep)
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(keep, (chr(c) for c in chars)))


def _vocab(n_vocab: int) -> tuple[list[str], list[int], list[str]]:
    byte_chars = bytes_to_unicode()
    tokens = [byte_chars[b] for b in range(256)]
    merges: list[str] = []
    # A few real merges so the BPE has work to do (llama.cpp refuses zero merges).
    for word in ("th", "in", "er", "an", "re", "on", "at", "en", "ed", "es"):
        merges.append(f"{word[0]} {word[1]}")
        tokens.append(word)
    n_regular = n_vocab - len(SPECIALS)
    filler = 0
    while len(tokens) < n_regular:
        tokens.append(f"\u0120w{filler}")
        filler += 1
    types = [1] * len(tokens) + [3] * len(SPECIALS)
    tokens.extend(SPECIALS)
    return tokens, types, merges


Vocab = tuple[list[str], list[int], list[str]]


def write_random_qwen2(path: Path, shape: Shape = TINY, *, seed: int = 0,
                       dtype: str = "f32", name: str = "random-qwen2",
                       chat_template: str | None = CHATML, vocab: Vocab | None = None) -> Path:
    """Write a random-weight qwen2 GGUF at `path` (dtype "f32" or "f16").

    `vocab` is (tokens, token types, merges) ending with SPECIALS; by default a byte-level
    vocabulary of `shape.n_vocab` tokens.
    """
    import gguf

    rng = np.random.default_rng(seed)
    np_dtype = np.float16 if dtype == "f16" else np.float32
    head_dim = shape.n_embd // shape.n_head
    kv_dim = head_dim * shape.n_head_kv

    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_name(name)
    writer.add_context_length(shape.n_ctx_train)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16"
                         else gguf.LlamaFileType.ALL_F32)

    tokens, types, merges = vocab or _vocab(shape.n_vocab)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_pad_token_id(tokens.index("<|endoftext|>"))
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_add_bos_token(False)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    def weight(*dims: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(dims, dtype=np.float32) * scale).astype(np_dtype)

    def norm(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    embeddings = weight(shape.n_vocab, shape.n_embd, scale=1.0)
    output = None if shape.tied_embeddings else weight(shape.n_vocab, shape.n_embd, scale=1.0)
    if shape.suppress_eos and output is not None:
        # A large constant in dimension 0 of every embedding survives the residual stream,
        # so after the final norm that dimension is about sqrt(n_embd): its output weight
        # adds a big positive logit to ordinary tokens and a big negative one to specials.
        embeddings[:, 0] = 100.0
        output[:, 0] = 5.0
        output[-len(SPECIALS):, 0] = -5.0
    writer.add_tensor("token_embd.weight", embeddings)
    writer.add_tensor("output_norm.weight", norm(shape.n_embd))
    if output is not None:
        writer.add_tensor("output.weight", output)
    for i in range(shape.n_layer):
        p = f"blk.{i}."
        writer.add_tensor(p + "attn_norm.weight", norm(shape.n_embd))
        writer.add_tensor(p + "attn_q.weight", weight(shape.n_embd, shape.n_embd))
        writer.add_tensor(p + "attn_q.bias", np.zeros(shape.n_embd, dtype=np.float32))
        writer.add_tensor(p + "attn_k.weight", weight(kv_dim, shape.n_embd))
        writer.add_tensor(p + "attn_k.bias", np.zeros(kv_dim, dtype=np.float32))
        writer.add_tensor(p + "attn_v.weight", weight(kv_dim, shape.n_embd))
        writer.add_tensor(p + "attn_v.bias", np.zeros(kv_dim, dtype=np.float32))
        writer.add_tensor(p + "attn_output.weight", weight(shape.n_embd, shape.n_embd))
        writer.add_tensor(p + "ffn_norm.weight", norm(shape.n_embd))
        writer.add_tensor(p + "ffn_gate.weight", weight(shape.n_ff, shape.n_embd))
        writer.add_tensor(p + "ffn_up.weight", weight(shape.n_ff, shape.n_embd))
        writer.add_tensor(p + "ffn_down.weight", weight(shape.n_embd, shape.n_ff))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
