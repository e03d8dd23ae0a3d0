// Picks and loads the text::Tokenizer a model bundle needs, from the files in its directory.
//
// Selection, in order:
//  1. tokenizer_config.json "tokenizer_class" (the "Fast" suffix is ignored):
//       CLIPTokenizer                 -> CLIP byte-level BPE (ClipTokenizer)
//       SiglipTokenizer               -> SentencePiece, SigLIP flavour (spiece.model)
//       XLMRobertaTokenizer           -> SentencePiece, fairseq ids (sentencepiece.bpe.model)
//       GemmaTokenizer, T5Tokenizer,
//       LlamaTokenizer                -> SentencePiece, plain ids (tokenizer.model / spiece.model)
//     Any other class fails with ERR_TOKENIZER naming it. When the class's own vocabulary file is
//     absent, a tokenizer.json is used instead (see 3).
//  2. config.json "model_type" when there is no tokenizer_class: clip -> CLIP, siglip -> SigLIP,
//     xlm-roberta -> XLM-R (the M-CLIP text towers).
//  3. Otherwise the files: vocab.json + merges.txt, then bpe_simple_vocab_16e6.txt(.gz) -> CLIP;
//     spiece.model / sentencepiece.bpe.model / tokenizer.model -> SentencePiece; tokenizer.json
//     -> by its "model.type": "BPE" -> CLIP BPE, "Unigram" -> UnigramTokenizer; any other model
//     type (WordPiece, WordLevel, ...) fails with ERR_TOKENIZER naming it.
//  No tokenizer file at all: ERR_MODEL_LOAD naming the directory.
//
// Context length: the family default (CLIP 77, SigLIP 64, XLM-R 512), replaced by config.json's
// text_config.max_position_embeddings (or max_position_embeddings minus 2 for XLM-R, whose
// positions are offset by the pad id), and lowered to tokenizer_config.json's model_max_length when
// that is smaller (exports write 1e30 for "no limit"). options.context_length overrides all of it.
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace crossmodal::text {

struct TokenizerLoadOptions {
  size_t context_length = 0;  // 0: from the bundle
};

std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& dir, const TokenizerLoadOptions& options = {});

}  // namespace crossmodal::text
