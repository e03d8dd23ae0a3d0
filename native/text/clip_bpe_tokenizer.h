// CLIP byte-level BPE tokenizer, exact to OpenAI's clip/simple_tokenizer.py.
//
// Pipeline of Encode (all steps reproduce the Python reference bit for bit, except
// ftfy.fix_text which is not applied — see clip_text_normalizer.h):
//   1. UTF-8 -> code points (ill-formed bytes -> U+FFFD, see utf8.h),
//   2. NormalizeClipText: html.unescape x2, strip, collapse \s runs, strip, str.lower(),
//   3. pre-tokenisation with the reference pattern (compiled with regex.IGNORECASE)
//        <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
//      implemented as a hand-written scanner over code points with utf8proc general
//      categories. utf8proc 2.8 and the `regex` module used as reference both carry
//      Unicode 15.0 data, so \p{L} / \p{N} agree on every code point (checked
//      exhaustively). Pattern quirks reproduced: under IGNORECASE, U+0345 COMBINING
//      GREEK YPOGEGRAMMENI matches no alternative (it is skipped like whitespace and
//      splits runs), and U+017F 'ſ' matches the 's' of "'s", "<|startoftext|>" (the
//      latter then goes through BPE like any other pre-token, as in the reference),
//   4. each pre-token -> UTF-8 bytes -> bytes_to_unicode symbols, last one + "</w>",
//      BPE merges applied by rank (lowest first, all occurrences of the chosen pair
//      merged left to right per step, exactly like SimpleTokenizer.bpe); a pre-token that
//      is exactly "<|startoftext|>" / "<|endoftext|>" maps to that special id.
//
// Thread safety: all const methods may be called concurrently from any number of
// threads. The only mutable state is the word cache: a sharded LRU (one mutex per shard)
// behind a small lock-free per-thread front cache (16384 direct-mapped slots per thread,
// shared by all tokenizers on that thread, entries tagged with their tokenizer).
// cache_stats() counts lookups in the shared LRU, i.e. front-cache misses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace crossmodal::text {

class ClipBpeTokenizer {
 public:
  struct Options {
    // Maximum number of cached words (pre-token -> ids). 0 disables the cache.
    size_t cache_capacity = 65536;
    // Number of independently locked LRU shards (rounded up to a power of two).
    size_t cache_shards = 16;
    // Pre-tokens longer than this many UTF-8 bytes are never cached, so the cache's
    // memory is bounded by roughly cache_capacity * (max_cached_word_bytes * 5 + 100).
    size_t max_cached_word_bytes = 128;
  };

  struct CacheStats {
    size_t size = 0;
    size_t capacity = 0;
    uint64_t hits = 0;
    uint64_t misses = 0;
  };

  // Hugging Face layout: vocab.json = {"token": id, ...}; merges.txt = optional first
  // line starting with "#version", then one "left right" pair per line, highest
  // priority first (blank lines ignored). Throws Error(kModelLoad) naming the path when
  // a file is missing or malformed, or when the vocab lacks a required entry (the 512
  // byte symbols, "<|startoftext|>", "<|endoftext|>", both parts and the result of every
  // merge).
  static std::unique_ptr<ClipBpeTokenizer> FromVocabAndMerges(const std::string& vocab_json_path,
                                                              const std::string& merges_txt_path);
  static std::unique_ptr<ClipBpeTokenizer> FromVocabAndMerges(const std::string& vocab_json_path,
                                                              const std::string& merges_txt_path,
                                                              const Options& options);
  // Same, from the files' contents.
  static std::unique_ptr<ClipBpeTokenizer> FromVocabAndMergesData(std::string vocab_json, std::string merges);
  static std::unique_ptr<ClipBpeTokenizer> FromVocabAndMergesData(std::string vocab_json, std::string merges,
                                                                  const Options& options);

  ~ClipBpeTokenizer();
  ClipBpeTokenizer(const ClipBpeTokenizer&) = delete;
  ClipBpeTokenizer& operator=(const ClipBpeTokenizer&) = delete;

  // SimpleTokenizer.encode: token ids without start/end tokens.
  std::vector<int32_t> Encode(std::string_view text) const;
  // Appends the ids of `text` to `out`.
  void EncodeAppend(std::string_view text, std::vector<int32_t>& out) const;

  // [SOT, tokens..., EOT] in out_ids[0..context_length): when the text has more than
  // context_length - 2 tokens they are truncated so that EOT stays the last token
  // (open_clip's tokenize(truncate=True)); the rest is filled with pad_id (0 for
  // OpenAI CLIP). Returns the true length (<= context_length), i.e. EOT's index + 1.
  // Throws Error(kInvalidArgument) if context_length < 2 or out_ids is null.
  size_t EncodeForModel(std::string_view text, size_t context_length, int32_t* out_ids, int32_t pad_id) const;
  std::vector<int32_t> EncodeForModel(std::string_view text, size_t context_length = 77, int32_t pad_id = 0,
                                      size_t* true_length = nullptr) const;

  // SimpleTokenizer.decode: concatenates the tokens, maps symbols back to bytes, decodes
  // UTF-8 with errors='replace' and replaces every "</w>" with a space (so the result
  // usually ends with a space). With skip_special_tokens the start/end ids are dropped
  // (pad ids are ordinary tokens, e.g. 0 = "!": pass only the true length).
  // Throws Error(kInvalidArgument) for an id outside the vocabulary.
  std::string Decode(const int32_t* ids, size_t n, bool skip_special_tokens = true) const;
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens = true) const;

  int32_t start_token_id() const noexcept { return sot_id_; }
  int32_t end_token_id() const noexcept { return eot_id_; }
  // Number of entries in vocab.json (49408 for CLIP).
  size_t vocab_size() const noexcept { return vocab_size_; }
  size_t num_merges() const noexcept { return num_merges_; }
  // Id of a vocabulary string (UTF-8 of the byte-level symbols), or -1.
  int32_t TokenToId(std::string_view token) const;
  // Vocabulary string of an id (e.g. "cat</w>"); throws Error(kInvalidArgument).
  const std::string& IdToToken(int32_t id) const;

  CacheStats cache_stats() const;
  void ClearCache() const;

  // Test hook: BPE of one pre-token given as raw UTF-8 bytes (no normalisation, no
  // pre-tokenisation, no special tokens, no cache), using the simple quadratic
  // algorithm (use_heap = false, used by Encode for words <= 64 bytes) or the
  // O(n log n) heap algorithm (used for longer words). Both must always agree.
  std::vector<int32_t> BpeWordForTesting(std::string_view word_bytes, bool use_heap) const;

 private:
  struct Impl;
  explicit ClipBpeTokenizer(std::unique_ptr<Impl> impl);
  static std::unique_ptr<ClipBpeTokenizer> Create(const std::string& vocab_json, const std::string& merges_txt,
                                                  const std::string& vocab_label, const std::string& merges_label,
                                                  const Options& options);

  std::unique_ptr<Impl> impl_;
  int32_t sot_id_ = -1;
  int32_t eot_id_ = -1;
  size_t vocab_size_ = 0;
  size_t num_merges_ = 0;
};

}  // namespace crossmodal::text
