// text::Tokenizer: the interface the encoder and the JS TextTokenizer use for every model family.
//
// A Tokenizer turns text into the id sequence a text tower expects:
//
//     [bos?] tokens... [eos?] pad pad ...          (context_length ids per text)
//
// Implementations provide the family-specific part (EncodeTokens: cleanup, pre-tokenisation,
// subword model, no special tokens, no truncation; Decode; vocabulary lookups). The framing is
// shared and driven by TokenizerSpec: which special tokens surround the text, the pad id, the
// context length, and whether padding may be trimmed:
//
//   * Padding::kTrimmable — a causal tower pooled at the end token (OpenAI CLIP), or a tower
//     that takes an attention mask (XLM-R): ids after the true length cannot change the result,
//     so a batch may run at its longest text's length.
//   * Padding::kFixed — the tower was trained on fixed-length input without a mask (SigLIP:
//     always 64 ids, padded with the pad id); every row must be context_length long.
//
// Truncation keeps the end token last: at most context_length - #specials text tokens are kept
// (open_clip's tokenize(truncate=True); Hugging Face's truncation=True).
//
// Thread safety: every const method may be called from any number of threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace crossmodal::text {

// The largest context length a bundle's files may declare (config.json's max_position_embeddings
// or text_cfg.context_length, tokenizer.json's truncation / fixed padding). It sizes every text
// batch (rows x context ids, mask, the placeholder row), so a file declaring 10^12 must fail at
// load, typed (ERR_MODEL_LOAD), not exhaust memory later. Text models use 64..8192; the
// contextLength option, an explicit choice of the caller, may go up to 2^20.
inline constexpr size_t kMaxContextLength = size_t{1} << 16;

enum class Padding { kTrimmable, kFixed };

struct TokenizerSpec {
  std::string kind;            // "clip-bpe", "sentencepiece", "unigram"
  std::string source;          // the file the vocabulary came from (for messages and info)
  size_t context_length = 77;  // ids per text, specials included (see kMaxContextLength)
  int32_t bos_id = -1;         // prepended when >= 0
  int32_t eos_id = -1;         // appended when >= 0
  int32_t pad_id = 0;
  Padding padding = Padding::kTrimmable;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Appends the ids of `text` (no special tokens, no truncation) to `out`.
  virtual void EncodeTokens(std::string_view text, std::vector<int32_t>& out) const = 0;
  // Text of `ids`. With skip_special_tokens, bos/eos/pad-like control ids are dropped.
  // Throws Error(kInvalidArgument) for an id outside the vocabulary.
  virtual std::string Decode(const int32_t* ids, size_t n, bool skip_special_tokens) const = 0;
  virtual size_t vocab_size() const = 0;
  // Id of a vocabulary entry, or -1.
  virtual int32_t TokenToId(std::string_view token) const = 0;
  // Vocabulary entry of an id; throws Error(kInvalidArgument) when out of range.
  virtual std::string IdToToken(int32_t id) const = 0;

  const TokenizerSpec& spec() const noexcept { return spec_; }
  size_t context_length() const noexcept { return spec_.context_length; }
  int32_t pad_id() const noexcept { return spec_.pad_id; }
  Padding padding() const noexcept { return spec_.padding; }
  // Number of special ids framing every text (0, 1 or 2).
  size_t num_specials() const noexcept { return (spec_.bos_id >= 0 ? 1 : 0) + (spec_.eos_id >= 0 ? 1 : 0); }

  // For loaders only, before the tokenizer is shared between threads.
  void set_pad_id(int32_t id) noexcept { spec_.pad_id = id; }

  std::vector<int32_t> Encode(std::string_view text) const {
    std::vector<int32_t> out;
    EncodeTokens(text, out);
    return out;
  }

  // Writes the framed, truncated, padded ids of `text` into out[0..context_length) and returns the
  // true length (ids before the padding). context_length 0 means spec().context_length.
  // Throws Error(kInvalidArgument) when context_length leaves no room for a text token.
  size_t EncodeForModel(std::string_view text, int32_t* out, size_t context_length = 0) const;

  // EncodeForModel for every text: ids is texts.size() x context rows, lengths one per text.
  // threads > 1 splits the batch over that many native threads (the calling thread included).
  void EncodeBatch(const std::vector<std::string>& texts, int32_t* ids, int32_t* lengths, size_t context_length = 0,
                   size_t threads = 1) const;

 protected:
  explicit Tokenizer(TokenizerSpec spec) : spec_(std::move(spec)) {}
  TokenizerSpec spec_;
};

}  // namespace crossmodal::text
