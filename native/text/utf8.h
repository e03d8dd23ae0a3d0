// UTF-8 <-> code point helpers for the text tokenizer.
//
// Ill-formed input policy (deterministic, identical to CPython's
// `bytes.decode("utf-8", errors="replace")`, which follows the Unicode
// "maximal subpart" recommendation, Unicode 15 §3.9 / WHATWG Encoding):
//   * every maximal subpart of an ill-formed sequence becomes ONE U+FFFD;
//     e.g. "\xE2\x82A" -> U+FFFD 'A'; "\xE0\x80" -> U+FFFD U+FFFD;
//     a stray continuation byte or 0xC0/0xC1/0xF5..0xFF -> one U+FFFD each;
//   * overlong forms, UTF-16 surrogates (ED A0..BF ..) and values above
//     U+10FFFF are ill-formed (so each byte of an encoded surrogate yields U+FFFD);
//   * NUL bytes are ordinary characters (U+0000), not terminators.
// Strings coming from JS through N-API are always well-formed UTF-8, so this only
// matters for C++ callers feeding raw bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace crossmodal::text {

inline constexpr char32_t kReplacementChar = 0xFFFD;
inline constexpr char32_t kMaxCodePoint = 0x10FFFF;

// True for Unicode scalar values (0..0x10FFFF minus surrogates).
constexpr bool IsScalarValue(char32_t cp) noexcept { return cp <= kMaxCodePoint && !(cp >= 0xD800 && cp <= 0xDFFF); }

// Decodes one code point starting at in[pos]; advances pos by the number of bytes
// consumed (>= 1). Ill-formed input yields U+FFFD per the policy above.
// Precondition: pos < in.size().
char32_t DecodeUtf8At(std::string_view in, size_t& pos) noexcept;

// Appends the code points of `in` to `out` (policy above).
void DecodeUtf8(std::string_view in, std::u32string& out);
std::u32string DecodeUtf8(std::string_view in);

// Appends the UTF-8 encoding of `cp`. Non-scalar values (surrogates, > U+10FFFF)
// are written as U+FFFD.
void AppendUtf8(char32_t cp, std::string& out);
void EncodeUtf8(std::u32string_view in, std::string& out);  // appends
std::string EncodeUtf8(std::u32string_view in);

// True iff `in` is well-formed UTF-8.
bool IsValidUtf8(std::string_view in) noexcept;

}  // namespace crossmodal::text
