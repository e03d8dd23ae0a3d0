#include "utf8.h"

namespace crossmodal::text {

char32_t DecodeUtf8At(std::string_view in, size_t& pos) noexcept {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  const unsigned char b0 = s[pos];
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  int len;
  char32_t cp;
  // Valid range of the second byte (Unicode Table 3-7, "well-formed UTF-8").
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;       // no overlongs
    else if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;       // no overlongs
    else if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    // Continuation byte without a lead, C0/C1 (always overlong), F5..FF.
    ++pos;
    return kReplacementChar;
  }
  size_t i = pos + 1;
  for (int k = 1; k < len; ++k, ++i) {
    if (i >= n) {  // truncated: the valid prefix is one maximal subpart
      pos = i;
      return kReplacementChar;
    }
    const unsigned char b = s[i];
    const unsigned char l = (k == 1) ? lo : 0x80;
    const unsigned char h = (k == 1) ? hi : 0xBF;
    if (b < l || b > h) {  // the offending byte is not consumed
      pos = i;
      return kReplacementChar;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  pos = i;
  return cp;
}

void DecodeUtf8(std::string_view in, std::u32string& out) {
  out.reserve(out.size() + in.size());
  size_t pos = 0;
  while (pos < in.size()) {
    // ASCII fast path.
    const unsigned char b = static_cast<unsigned char>(in[pos]);
    if (b < 0x80) {
      out.push_back(b);
      ++pos;
      continue;
    }
    out.push_back(DecodeUtf8At(in, pos));
  }
}

std::u32string DecodeUtf8(std::string_view in) {
  std::u32string out;
  DecodeUtf8(in, out);
  return out;
}

void AppendUtf8(char32_t cp, std::string& out) {
  if (!IsScalarValue(cp)) cp = kReplacementChar;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void EncodeUtf8(std::u32string_view in, std::string& out) {
  out.reserve(out.size() + in.size());
  for (char32_t cp : in) AppendUtf8(cp, out);
}

std::string EncodeUtf8(std::u32string_view in) {
  std::string out;
  EncodeUtf8(in, out);
  return out;
}

bool IsValidUtf8(std::string_view in) noexcept {
  size_t pos = 0;
  while (pos < in.size()) {
    const size_t start = pos;
    const char32_t cp = DecodeUtf8At(in, pos);
    if (cp == kReplacementChar) {
      // U+FFFD itself is valid when actually encoded (EF BF BD).
      if (pos - start != 3 || static_cast<unsigned char>(in[start]) != 0xEF) return false;
    }
  }
  return true;
}

}  // namespace crossmodal::text
