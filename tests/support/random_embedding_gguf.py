"""Write a random-weight BERT embedding GGUF for tests.

The decoder path (last-token pooling, as Qwen3-Embedding uses) is tested with the tiny
qwen2 model of `random_gguf`. Many embedding GGUFs people bring (E5, BGE, MiniLM,
nomic) are BERT encoders instead: bidirectional attention, token-type and position
embeddings, mean pooling and a WordPiece vocabulary that adds [CLS] ... [SEP]. This
writes such a model, 2 layers and 32 wide, so the encoder path runs through llama.cpp too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
WORDS = ("password", "passwords", "store", "hash", "salt", "test", "tests", "flaky",
         "cache", "timeout", "retry", "index", "page", "title", "пароль", "пароли",
         "хранение", "тест", "тесты", "кэш")


def _vocab() -> list[str]:
    """WordPiece as llama.cpp stores it: a word-initial piece starts with U+2581, a
    continuation piece ("##x" in the original vocabulary) is bare."""
    tokens = list(SPECIALS)
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + \
        [chr(c) for c in range(ord("а"), ord("я") + 1)] + list("0123456789.,:;!?-()'\"")
    tokens.extend("\u2581" + c for c in chars)
    tokens.extend(chars)
    tokens.extend("\u2581" + w for w in WORDS)
    return tokens


def write_random_bert(path: Path, *, n_embd: int = 32, n_layer: int = 2, n_head: int = 2,
                      n_ff: int = 64, n_ctx: int = 512, seed: int = 0,
                      name: str = "random-bert-embedding") -> Path:
    """Write a random-weight BERT GGUF with mean pooling at `path`."""
    import gguf

    rng = np.random.default_rng(seed)
    tokens = _vocab()
    n_vocab = len(tokens)
    writer = gguf.GGUFWriter(str(path), "bert")
    writer.add_name(name)
    writer.add_context_length(n_ctx)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_layer_norm_eps(1e-12)
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    writer.add_tokenizer_model("bert")
    writer.add_token_list(tokens)
    writer.add_token_types([3 if t in SPECIALS else 1 for t in tokens])
    writer.add_token_type_count(2)
    writer.add_pad_token_id(tokens.index("[PAD]"))
    writer.add_unk_token_id(tokens.index("[UNK]"))
    writer.add_bos_token_id(tokens.index("[CLS]"))
    writer.add_sep_token_id(tokens.index("[SEP]"))
    writer.add_mask_token_id(tokens.index("[MASK]"))

    def weight(*dims: int) -> np.ndarray:
        return (rng.standard_normal(dims, dtype=np.float32) * 0.1).astype(np.float32)

    def ones(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    def zeros(n: int) -> np.ndarray:
        return np.zeros(n, dtype=np.float32)

    writer.add_tensor("token_embd.weight", weight(n_vocab, n_embd))
    writer.add_tensor("token_types.weight", weight(2, n_embd))
    writer.add_tensor("position_embd.weight", weight(n_ctx, n_embd))
    writer.add_tensor("token_embd_norm.weight", ones(n_embd))
    writer.add_tensor("token_embd_norm.bias", zeros(n_embd))
    for i in range(n_layer):
        p = f"blk.{i}."
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(p + part + ".weight", weight(n_embd, n_embd))
            writer.add_tensor(p + part + ".bias", zeros(n_embd))
        writer.add_tensor(p + "attn_output_norm.weight", ones(n_embd))
        writer.add_tensor(p + "attn_output_norm.bias", zeros(n_embd))
        writer.add_tensor(p + "ffn_up.weight", weight(n_ff, n_embd))
        writer.add_tensor(p + "ffn_up.bias", zeros(n_ff))
        writer.add_tensor(p + "ffn_down.weight", weight(n_embd, n_ff))
        writer.add_tensor(p + "ffn_down.bias", zeros(n_embd))
        writer.add_tensor(p + "layer_output_norm.weight", ones(n_embd))
        writer.add_tensor(p + "layer_output_norm.bias", zeros(n_embd))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
