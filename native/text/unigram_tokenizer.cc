#include "text/unigram_tokenizer.h"

#include "common/error.h"

namespace crossmodal::text {

std::unique_ptr<Tokenizer> LoadUnigramTokenizerJson(const std::string& path, TokenizerSpec spec,
                                                    const std::string& pad_token) {
  throw Error(codes::kTokenizer, path + ": tokenizer.json model type 'Unigram' is not supported yet");
}

}  // namespace crossmodal::text
