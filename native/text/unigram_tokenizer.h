// text::Tokenizer for a Hugging Face tokenizer.json whose model is "Unigram" (SentencePiece
// Unigram exported by transformers' converters; bundles that ship no .model file).
//
// Implemented natively (no libtokenizers): the declared normalizer and pre-tokenizer steps, then
// Viterbi segmentation over the pieces' log-probabilities, as tokenizers' Unigram model does:
//   normalizers:     Precompiled (SentencePiece's precompiled_charsmap, e.g. nmt_nfkc: a
//                    darts-clone double-array trie of replacements, longest match first),
//                    Lowercase, Replace (literal pattern), Strip, Prepend, NFKC-free Sequence of these;
//   pre_tokenizers:  Metaspace (replacement "▁", prepend_scheme always/first/never or
//                    add_prefix_space), WhitespaceSplit, Split on a literal, Sequence of these;
//   model:           Unigram {vocab: [[piece, score]...], unk_id, byte_fallback=false};
//                    unknown characters become unk, consecutive unks are fused (fuse_unk), as in
//                    SentencePiece.
//   post_processor:  TemplateProcessing / RobertaProcessing / BertProcessing for the single
//                    sequence: the special tokens before and after $A become bos / eos.
// Any other normalizer, pre-tokenizer or decoder type fails to load with ERR_TOKENIZER naming it.
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace crossmodal::text {

class UnigramTokenizer;

// Loads tokenizer.json at `path` (already known to hold a Unigram model). `spec` carries the
// context length, padding policy and pad token chosen by the factory; bos/eos come from the
// post-processor.
std::unique_ptr<Tokenizer> LoadUnigramTokenizerJson(const std::string& path, TokenizerSpec spec,
                                                    const std::string& pad_token);

}  // namespace crossmodal::text
