// text::Tokenizer over a SentencePiece model file (spiece.model, sentencepiece.bpe.model,
// tokenizer.model), run by Debian's libsentencepiece — the library that trained those models —
// so its normalizer (e.g. nmt_nfkc), whitespace handling and Unigram/BPE segmentation are exact.
//
// Flavours reproduce the Hugging Face tokenizer class the bundle names:
//
//  * kSiglip (SiglipTokenizer, SigLIP): transformers' tokenization_siglip.py does, in order,
//      text = "▁" + text.replace("▁", " ")
//      text = text.lower()                      (do_lower_case, default True; Python str.lower)
//      text = remove string.punctuation         (the 32 ASCII punctuation characters only)
//      text = re.sub(r"\s+", " ", text).strip() (Python str.isspace() whitespace)
//      pieces = sp.encode("<unk>" + text)[len(sp.encode("<unk>")):]
//    with the model's normalizer_spec.add_dummy_prefix forced to false (we merge that field into
//    the serialized model proto, as transformers does), then appends "</s>" and pads with the pad
//    token ("</s>" by default) to a fixed 64 ids (Padding::kFixed: SigLIP has no attention mask).
//    Not reproduced: special-token strings typed inside the text ("</s>") are ordinary text here.
//  * kXlmRoberta (XLMRobertaTokenizer, multilingual CLIP): <s> tokens </s>, fairseq ids —
//    <s>=0 <pad>=1 </s>=2 <unk>=3, every other piece = SentencePiece id + 1 — pad <pad>,
//    Padding::kTrimmable (the tower takes an attention mask).
//  * kPlain (GemmaTokenizer for SigLIP 2, T5Tokenizer, other SentencePiece tokenizers):
//    SentencePiece ids as they are, optional lowercasing, bos/eos as tokenizer_config.json's
//    add_bos_token / add_eos_token say.
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace crossmodal::text {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  enum class Flavor { kSiglip, kXlmRoberta, kPlain };
  struct Options {
    Flavor flavor = Flavor::kPlain;
    bool lowercase = false;
    bool add_bos = false;   // kPlain only
    bool add_eos = false;   // kPlain only
    std::string pad_token;  // empty: the flavour's default
    std::string eos_token;  // empty: the model's eos piece
  };

  // Throws Error(kModelLoad) naming the file when it cannot be read or parsed.
  static std::unique_ptr<SentencePieceTokenizer> Load(const std::string& model_path, const Options& options,
                                                      TokenizerSpec spec);
  ~SentencePieceTokenizer() override;

  void EncodeTokens(std::string_view text, std::vector<int32_t>& out) const override;
  std::string Decode(const int32_t* ids, size_t n, bool skip_special_tokens) const override;
  size_t vocab_size() const override;
  int32_t TokenToId(std::string_view token) const override;
  std::string IdToToken(int32_t id) const override;

 private:
  SentencePieceTokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp, const Options& options,
                         TokenizerSpec spec);
  // Model id <-> exposed id (differs only for kXlmRoberta).
  int32_t FromModelId(int id) const;
  int ToModelId(int32_t id) const;  // -1 for ids with no model piece (XLM-R <pad>)

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  Options options_;
  size_t unk_prefix_pieces_ = 0;  // kSiglip: length of sp.encode("<unk>")
  int piece_size_ = 0;
};

}  // namespace crossmodal::text
