#include "text/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "text/clip_text_normalizer.h"
#include "text/utf8.h"

namespace crossmodal::text {
namespace {

constexpr char32_t kSpieceUnderline = 0x2581;  // "▁"

bool IsAsciiPunctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

// SiglipTokenizer's text preparation (see the header), on code points.
std::string SiglipCanonicalize(std::string_view text, bool lowercase) {
  std::u32string in;
  in.push_back(kSpieceUnderline);
  DecodeUtf8(text, in);
  for (size_t i = 1; i < in.size(); ++i) {
    if (in[i] == kSpieceUnderline) in[i] = U' ';
  }
  std::u32string lowered;
  if (lowercase) {
    PythonLower(in, lowered);
  } else {
    lowered = std::move(in);
  }
  std::u32string collapsed;
  collapsed.reserve(lowered.size());
  bool in_space = false;
  for (char32_t c : lowered) {
    if (IsAsciiPunctuation(c)) continue;  // removed before whitespace is collapsed
    if (IsPythonSpace(c)) {
      if (!in_space) collapsed.push_back(U' ');
      in_space = true;
    } else {
      collapsed.push_back(c);
      in_space = false;
    }
  }
  size_t begin = 0, end = collapsed.size();
  while (begin < end && collapsed[begin] == U' ') ++begin;
  while (end > begin && collapsed[end - 1] == U' ') --end;
  return EncodeUtf8(std::u32string_view(collapsed).substr(begin, end - begin));
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp,
                                               const Options& options, TokenizerSpec spec)
    : Tokenizer(std::move(spec)), sp_(std::move(sp)), options_(options) {
  spec_.kind = "sentencepiece";
  piece_size_ = sp_->GetPieceSize();
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::Load(const std::string& model_path,
                                                                     const Options& options, TokenizerSpec spec) {
  std::string proto = ReadFileToString(model_path);
  if (options.flavor == Flavor::kSiglip) {
    // ModelProto field 3 (normalizer_spec) { field 3 (add_dummy_prefix): false }. Protobuf merges a
    // repeated embedded message field into the earlier one, exactly like NormalizerSpec.MergeFrom.
    proto.append("\x1a\x02\x18\x00", 4);
  }
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = sp->LoadFromSerializedProto(proto);
  if (!status.ok()) {
    throw Error(codes::kModelLoad, "cannot load SentencePiece model " + model_path + ": " + status.ToString());
  }
  spec.source = model_path;
  std::unique_ptr<SentencePieceTokenizer> tok(new SentencePieceTokenizer(std::move(sp), options, std::move(spec)));
  auto piece_id = [&](const std::string& piece, const char* what) {
    const int id = tok->sp_->PieceToId(piece);
    if (id == tok->sp_->unk_id() && piece != tok->sp_->IdToPiece(tok->sp_->unk_id())) {
      throw Error(codes::kModelLoad, model_path + ": " + what + " \"" + piece + "\" is not in the model");
    }
    return id;
  };
  TokenizerSpec& s = tok->spec_;
  switch (options.flavor) {
    case Flavor::kSiglip: {
      s.bos_id = -1;
      s.eos_id = piece_id(options.eos_token.empty() ? "</s>" : options.eos_token, "eos_token");
      s.pad_id = piece_id(options.pad_token.empty() ? "</s>" : options.pad_token, "pad_token");
      std::vector<int> unk;
      tok->sp_->Encode(tok->sp_->IdToPiece(tok->sp_->unk_id()), &unk);
      tok->unk_prefix_pieces_ = unk.size();
      break;
    }
    case Flavor::kXlmRoberta:
      s.bos_id = 0;
      s.pad_id = 1;
      s.eos_id = 2;
      break;
    case Flavor::kPlain: {
      s.bos_id = options.add_bos ? tok->sp_->bos_id() : -1;
      s.eos_id = options.add_eos ? tok->sp_->eos_id() : -1;
      if (options.add_bos && s.bos_id < 0) throw Error(codes::kModelLoad, model_path + " defines no bos piece");
      if (options.add_eos && s.eos_id < 0) throw Error(codes::kModelLoad, model_path + " defines no eos piece");
      if (!options.pad_token.empty()) {
        s.pad_id = piece_id(options.pad_token, "pad_token");
      } else {
        s.pad_id = tok->sp_->pad_id() >= 0 ? tok->sp_->pad_id() : (tok->sp_->eos_id() >= 0 ? tok->sp_->eos_id() : 0);
      }
      break;
    }
  }
  return tok;
}

int32_t SentencePieceTokenizer::FromModelId(int id) const {
  if (options_.flavor != Flavor::kXlmRoberta) return id;
  return id == sp_->unk_id() ? 3 : id + 1;
}

int SentencePieceTokenizer::ToModelId(int32_t id) const {
  if (options_.flavor != Flavor::kXlmRoberta) return id;
  switch (id) {
    case 0:
      return sp_->bos_id();
    case 1:
      return -1;
    case 2:
      return sp_->eos_id();
    case 3:
      return sp_->unk_id();
    default:
      return id - 1;
  }
}

void SentencePieceTokenizer::EncodeTokens(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<int> ids;
  if (options_.flavor == Flavor::kSiglip) {
    const std::string prepared = sp_->IdToPiece(sp_->unk_id()) + SiglipCanonicalize(text, options_.lowercase);
    const auto status = sp_->Encode(prepared, &ids);
    if (!status.ok()) throw Error(codes::kTokenizer, "SentencePiece: " + status.ToString());
    const size_t skip = std::min(unk_prefix_pieces_, ids.size());
    out.insert(out.end(), ids.begin() + static_cast<std::ptrdiff_t>(skip), ids.end());
    return;
  }
  sentencepiece::util::Status status;
  if (options_.lowercase) {
    status = sp_->Encode(EncodeUtf8(PythonLower(DecodeUtf8(text))), &ids);
  } else {
    status = sp_->Encode(text, &ids);
  }
  if (!status.ok()) throw Error(codes::kTokenizer, "SentencePiece: " + status.ToString());
  out.reserve(out.size() + ids.size());
  for (int id : ids) out.push_back(FromModelId(id));
}

std::string SentencePieceTokenizer::Decode(const int32_t* ids, size_t n, bool skip_special_tokens) const {
  if (n > 0 && ids == nullptr) throw Error(codes::kInvalidArgument, "ids is null");
  std::vector<int> model_ids;
  model_ids.reserve(n);
  const int32_t limit = static_cast<int32_t>(vocab_size());
  for (size_t i = 0; i < n; ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= limit) {
      throw Error(codes::kInvalidArgument, "token id " + std::to_string(id) + " is not in the vocabulary");
    }
    const bool special = id == spec_.bos_id || id == spec_.eos_id || id == spec_.pad_id;
    if (skip_special_tokens && special) continue;
    const int m = ToModelId(id);
    if (m < 0) continue;  // XLM-R <pad> has no piece
    if (skip_special_tokens && sp_->IsControl(m)) continue;
    model_ids.push_back(m);
  }
  std::string text;
  const auto status = sp_->Decode(model_ids, &text);
  if (!status.ok()) throw Error(codes::kTokenizer, "SentencePiece: " + status.ToString());
  return text;
}

size_t SentencePieceTokenizer::vocab_size() const {
  return static_cast<size_t>(piece_size_) + (options_.flavor == Flavor::kXlmRoberta ? 1 : 0);
}

int32_t SentencePieceTokenizer::TokenToId(std::string_view token) const {
  if (options_.flavor == Flavor::kXlmRoberta) {
    if (token == "<s>") return 0;
    if (token == "<pad>") return 1;
    if (token == "</s>") return 2;
    if (token == "<unk>") return 3;
  }
  const int id = sp_->PieceToId(token);
  if (id == sp_->unk_id() && token != sp_->IdToPiece(id)) return -1;
  return FromModelId(id);
}

std::string SentencePieceTokenizer::IdToToken(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_size()) {
    throw Error(codes::kInvalidArgument, "token id " + std::to_string(id) + " is not in the vocabulary");
  }
  if (options_.flavor == Flavor::kXlmRoberta && id < 4) {
    static const char* kNames[] = {"<s>", "<pad>", "</s>", "<unk>"};
    return kNames[id];
  }
  return sp_->IdToPiece(ToModelId(id));
}

}  // namespace crossmodal::text
