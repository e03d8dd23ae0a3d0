// text::Tokenizer for OpenAI CLIP's byte-level BPE (ClipBpeTokenizer), from any of the three
// vocabulary formats a bundle may carry:
//
//   * vocab.json + merges.txt (Hugging Face slow-tokenizer layout),
//   * tokenizer.json with a "BPE" model (Hugging Face fast-tokenizer layout): only the model's
//     vocab and merges are used; text goes through the reference pipeline of
//     clip_bpe_tokenizer.h, NOT through the normalizer/pre-tokenizer tokenizer.json declares
//     (HF's CLIP tokenizer.json applies NFC and a slightly different split; the reference is
//     OpenAI's simple_tokenizer.py, which the text tower was trained with),
//   * bpe_simple_vocab_16e6.txt or .txt.gz (OpenAI's file): the vocabulary is rebuilt exactly as
//     simple_tokenizer.py does — the 256 byte symbols in bytes_to_unicode() order, the same with
//     "</w>", one entry per merge (lines 1..48894), then <|startoftext|>, <|endoftext|>.
//
// Framing: [<|startoftext|>] tokens [<|endoftext|>], padded with pad_id (0 in OpenAI CLIP; the
// id of tokenizer_config.json's pad_token when the bundle names one), Padding::kTrimmable.
#pragma once

#include <memory>
#include <string>

#include "text/clip_bpe_tokenizer.h"
#include "text/tokenizer.h"

namespace crossmodal::text {

class ClipTokenizer final : public Tokenizer {
 public:
  // Each loader throws Error(kModelLoad) naming the file when it is missing or malformed.
  static std::unique_ptr<ClipTokenizer> FromVocabAndMerges(const std::string& vocab_json_path,
                                                           const std::string& merges_txt_path, TokenizerSpec spec);
  static std::unique_ptr<ClipTokenizer> FromTokenizerJson(const std::string& tokenizer_json_path, TokenizerSpec spec);
  // Plain text or gzip (detected from the content, not the name).
  static std::unique_ptr<ClipTokenizer> FromBpeSimpleVocab(const std::string& path, TokenizerSpec spec);

  void EncodeTokens(std::string_view text, std::vector<int32_t>& out) const override { bpe_->EncodeAppend(text, out); }
  std::string Decode(const int32_t* ids, size_t n, bool skip_special_tokens) const override {
    return bpe_->Decode(ids, n, skip_special_tokens);
  }
  size_t vocab_size() const override { return bpe_->vocab_size(); }
  int32_t TokenToId(std::string_view token) const override { return bpe_->TokenToId(token); }
  std::string IdToToken(int32_t id) const override { return bpe_->IdToToken(id); }

  const ClipBpeTokenizer& bpe() const { return *bpe_; }

 private:
  ClipTokenizer(std::unique_ptr<ClipBpeTokenizer> bpe, TokenizerSpec spec);
  std::unique_ptr<ClipBpeTokenizer> bpe_;
};

}  // namespace crossmodal::text
