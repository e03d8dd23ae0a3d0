// text::Tokenizer for a Hugging Face tokenizer.json whose model is "Unigram" (SentencePiece
// Unigram exported by transformers' converters; bundles that ship no .model file).
//
// Implemented natively (no libtokenizers): the declared normalizer and pre-tokenizer steps, then
// Viterbi segmentation over the pieces' log-probabilities, as tokenizers' Unigram model does:
//   normalizers:     Precompiled (SentencePiece's precompiled_charsmap, e.g. nmt_nfkc: a
//                    darts-clone double-array trie of replacements, applied like SentencePiece's
//                    Normalizer: longest match at each position; tokenizers applies it per
//                    grapheme cluster, which differs only for rare multi-character entries),
//                    Lowercase (Python/Unicode full lowercase), Replace (literal pattern, or a
//                    run-collapsing regex "X{n,}" as transformers' converters write), Strip,
//                    Prepend, NFC/NFD/NFKC/NFKD (utf8proc), and Sequence of these;
//   pre_tokenizers:  Metaspace (replacement "▁", prepend_scheme always/first/never or
//                    add_prefix_space), WhitespaceSplit, Split on a literal, Sequence of these;
//   model:           Unigram {vocab: [[piece, score]...], unk_id, byte_fallback=false};
//                    unknown characters become unk (score min - 10), consecutive unks are fused,
//                    and special (added) tokens are never produced by the segmentation — all as
//                    in SentencePiece; special-token strings typed in the text are ordinary text.
//   post_processor:  TemplateProcessing / RobertaProcessing / BertProcessing for the single
//                    sequence: the special tokens before and after $A become bos / eos.
// Any other normalizer, pre-tokenizer or decoder type fails to load with ERR_TOKENIZER naming it.
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace crossmodal::text {

// Loads tokenizer.json at `path` (already known to hold a Unigram model). `spec` carries the
// context length and padding policy chosen by the factory; bos/eos come from the post-processor;
// the pad id is `pad_token`'s, else tokenizer.json's padding.pad_id, else "<pad>", else eos. When
// `context_explicit` is false, tokenizer.json's truncation.max_length / padding Fixed(n) (which
// also makes the padding fixed) replace the factory's default length.
std::unique_ptr<Tokenizer> LoadUnigramTokenizerJson(const std::string& path, TokenizerSpec spec,
                                                    const std::string& pad_token, bool context_explicit);

}  // namespace crossmodal::text
