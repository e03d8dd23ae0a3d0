#include "clip_text_normalizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstring>

#include "utf8.h"

namespace crossmodal::text {

namespace {

struct NamedEntity {
  const char* name;
  char32_t cp1;
  char32_t cp2;  // 0 = none
};

constexpr NamedEntity kNamedEntities[] = {
#include "html_entities.inc"
};
constexpr size_t kNumNamedEntities = sizeof(kNamedEntities) / sizeof(kNamedEntities[0]);

const NamedEntity* FindEntity(std::string_view name) {
  const NamedEntity* begin = kNamedEntities;
  const NamedEntity* end = kNamedEntities + kNumNamedEntities;
  const NamedEntity* it = std::lower_bound(
      begin, end, name, [](const NamedEntity& e, std::string_view n) { return std::string_view(e.name) < n; });
  if (it != end && std::string_view(it->name) == name) return it;
  return nullptr;
}

void AppendEntity(const NamedEntity* e, std::u32string& out) {
  out.push_back(e->cp1);
  if (e->cp2 != 0) out.push_back(e->cp2);
}

bool IsAsciiDigit(char32_t c) { return c >= '0' && c <= '9'; }
bool IsAsciiHexDigit(char32_t c) { return IsAsciiDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexValue(char32_t c) {
  if (c <= '9') return static_cast<int>(c - '0');
  if (c >= 'a') return static_cast<int>(c - 'a' + 10);
  return static_cast<int>(c - 'A' + 10);
}

// CPython html._invalid_charrefs for 0x80..0x9F (Windows-1252 remapping; the five
// undefined positions map to themselves).
constexpr char32_t kCp1252[32] = {0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                  0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
                                  0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                  0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178};

// CPython html._replace_charref for a numeric reference whose value is `num`
// (saturated at 0x110000).
void AppendNumericCharref(uint32_t num, std::u32string& out) {
  if (num == 0x00) {
    out.push_back(0xFFFD);
    return;
  }
  if (num == 0x0D) {
    out.push_back(U'\r');
    return;
  }
  if (num >= 0x80 && num <= 0x9F) {
    out.push_back(kCp1252[num - 0x80]);
    return;
  }
  if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out.push_back(0xFFFD);
    return;
  }
  // _invalid_codepoints -> removed.
  if ((num >= 0x1 && num <= 0x8) || num == 0xB || (num >= 0xE && num <= 0x1F) || (num >= 0x7F && num <= 0x9F) ||
      (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE) {
    return;
  }
  out.push_back(static_cast<char32_t>(num));
}

// Characters allowed in a named reference: [^\t\n\f <&#;].
bool IsEntityNameChar(char32_t c) {
  return !(c == U'\t' || c == U'\n' || c == U'\f' || c == U' ' || c == U'<' || c == U'&' || c == U'#' || c == U';');
}

// --- Case properties for CPython's Final_Sigma rule -------------------------------

utf8proc_category_t Category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

// Case_Ignorable (DerivedCoreProperties): Mn | Me | Cf | Lm | Sk, or
// Word_Break in {MidLetter, MidNumLet, Single_Quote}.
bool IsCaseIgnorable(char32_t c) {
  switch (c) {
    case 0x0027:
    case 0x002E:
    case 0x003A:
    case 0x00B7:
    case 0x0387:
    case 0x055F:
    case 0x05F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      break;
  }
  switch (Category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      return false;
  }
}

// Cased = Lowercase | Uppercase | Lt. Only queried for characters that are not
// Case_Ignorable, so Other_Lowercase / Other_Uppercase entries that are Lm / Mn (e.g.
// U+02B0, U+0345) are irrelevant; the remaining ones are listed explicitly.
bool IsCased(char32_t c) {
  switch (Category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
      return true;
    default:
      break;
  }
  return c == 0x00AA || c == 0x00BA ||      // ª º (Lo, Other_Lowercase)
         (c >= 0x2160 && c <= 0x217F) ||    // Roman numerals (Nl)
         (c >= 0x24B6 && c <= 0x24E9) ||    // circled Latin letters (So)
         (c >= 0x1F130 && c <= 0x1F149) ||  // squared Latin capitals (So)
         (c >= 0x1F150 && c <= 0x1F169) ||  // negative circled capitals (So)
         (c >= 0x1F170 && c <= 0x1F189);    // negative squared capitals (So)
}

// CPython unicodeobject.c handle_capital_sigma.
bool IsFinalSigma(std::u32string_view s, size_t i) {
  size_t j = i;
  char32_t c = 0;
  bool found = false;
  while (j > 0) {
    --j;
    c = s[j];
    if (!IsCaseIgnorable(c)) {
      found = true;
      break;
    }
  }
  if (!found || !IsCased(c)) return false;
  for (j = i + 1; j < s.size(); ++j) {
    c = s[j];
    if (!IsCaseIgnorable(c)) return !IsCased(c);
  }
  return true;
}

// whitespace_clean preceded by basic_clean's strip: strip(isspace), replace every run of
// regex-\s by one ' ', strip(isspace) again. Appends to out.
void StripCollapseStrip(std::u32string_view in, std::u32string& out) {
  size_t b = 0, e = in.size();
  while (b < e && IsPythonSpace(in[b])) ++b;
  while (e > b && IsPythonSpace(in[e - 1])) --e;
  const size_t start = out.size();
  bool in_run = false;
  for (size_t i = b; i < e; ++i) {
    const char32_t c = in[i];
    if (IsRegexSpace(c)) {
      if (!in_run) out.push_back(U' ');
      in_run = true;
    } else {
      out.push_back(c);
      in_run = false;
    }
  }
  // Second strip. Every regex-\s is also isspace, so after the first strip the result
  // only has isspace at an end when U+001C..U+001F sits next to a collapsed run there.
  size_t ob = start, oe = out.size();
  while (ob < oe && IsPythonSpace(out[ob])) ++ob;
  while (oe > ob && IsPythonSpace(out[oe - 1])) --oe;
  if (oe != out.size()) out.resize(oe);
  if (ob != start) out.erase(start, ob - start);
}

}  // namespace

bool IsPythonSpace(char32_t c) noexcept {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

bool IsRegexSpace(char32_t c) noexcept {
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D);
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

void HtmlUnescape(std::u32string_view in, std::u32string& out) {
  const size_t n = in.size();
  if (in.find(U'&') == std::u32string_view::npos) {
    out.append(in.data(), n);
    return;
  }
  out.reserve(out.size() + n);
  size_t i = 0;
  while (i < n) {
    const char32_t c = in[i];
    if (c != U'&') {
      out.push_back(c);
      ++i;
      continue;
    }
    // Try the three alternatives of CPython's _charref at position i.
    if (i + 1 < n && in[i + 1] == U'#') {
      size_t j = i + 2;
      // '#[0-9]+;?'
      if (j < n && IsAsciiDigit(in[j])) {
        uint32_t num = 0;
        while (j < n && IsAsciiDigit(in[j])) {
          num = num * 10 + static_cast<uint32_t>(in[j] - U'0');
          if (num > 0x10FFFF) num = 0x110000;  // saturate (see header)
          ++j;
        }
        if (j < n && in[j] == U';') ++j;
        AppendNumericCharref(num, out);
        i = j;
        continue;
      }
      // '#[xX][0-9a-fA-F]+;?'
      if (j + 1 < n && (in[j] == U'x' || in[j] == U'X') && IsAsciiHexDigit(in[j + 1])) {
        ++j;
        uint32_t num = 0;
        while (j < n && IsAsciiHexDigit(in[j])) {
          num = num * 16 + static_cast<uint32_t>(HexValue(in[j]));
          if (num > 0x10FFFF) num = 0x110000;
          ++j;
        }
        if (j < n && in[j] == U';') ++j;
        AppendNumericCharref(num, out);
        i = j;
        continue;
      }
      // The named alternative cannot start with '#': no match here.
      out.push_back(c);
      ++i;
      continue;
    }
    // '[^\t\n\f <&#;]{1,32};?'
    size_t j = i + 1;
    while (j < n && j - (i + 1) < 32 && IsEntityNameChar(in[j])) ++j;
    if (j == i + 1) {  // no match
      out.push_back(c);
      ++i;
      continue;
    }
    if (j < n && in[j] == U';') ++j;
    const std::u32string_view s = in.substr(i + 1, j - (i + 1));
    // Names in the table are ASCII: only the leading ASCII part can match.
    char ascii[40];
    size_t ascii_len = 0;
    while (ascii_len < s.size() && s[ascii_len] < 0x80) {
      ascii[ascii_len] = static_cast<char>(s[ascii_len]);
      ++ascii_len;
    }
    const NamedEntity* e = nullptr;
    if (ascii_len == s.size()) e = FindEntity(std::string_view(ascii, ascii_len));
    if (e != nullptr) {
      AppendEntity(e, out);
    } else {
      // Longest prefix s[:x] for x = len(s)-1 down to 2.
      bool done = false;
      for (size_t x = std::min(s.size() - 1, ascii_len); x >= 2; --x) {
        e = FindEntity(std::string_view(ascii, x));
        if (e != nullptr) {
          AppendEntity(e, out);
          out.append(s.data() + x, s.size() - x);
          done = true;
          break;
        }
      }
      if (!done) {
        out.push_back(U'&');
        out.append(s.data(), s.size());
      }
    }
    i = j;
  }
}

std::u32string HtmlUnescape(std::u32string_view in) {
  std::u32string out;
  HtmlUnescape(in, out);
  return out;
}

void PythonLower(std::u32string_view in, std::u32string& out) {
  out.reserve(out.size() + in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char32_t c = in[i];
    if (c < 0x80) {
      out.push_back((c >= U'A' && c <= U'Z') ? c + 32 : c);
    } else if (c == 0x0130) {  // SpecialCasing: İ -> i + COMBINING DOT ABOVE
      out.push_back(U'i');
      out.push_back(0x0307);
    } else if (c == 0x03A3) {
      out.push_back(IsFinalSigma(in, i) ? 0x03C2 : 0x03C3);
    } else {
      out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
}

std::u32string PythonLower(std::u32string_view in) {
  std::u32string out;
  PythonLower(in, out);
  return out;
}

void NormalizeClipText(std::u32string_view text, std::u32string& out, std::u32string& scratch) {
  out.clear();
  scratch.clear();
  // basic_clean: html.unescape(html.unescape(text)) (each pass is the identity on text
  // without '&').
  std::u32string_view cur = text;
  if (cur.find(U'&') != std::u32string_view::npos) {
    HtmlUnescape(cur, out);
    if (out.find(U'&') != std::u32string::npos) {
      HtmlUnescape(out, scratch);
    } else {
      scratch.swap(out);
    }
    out.clear();
    cur = scratch;
  }
  // .strip(), then whitespace_clean, into out.
  StripCollapseStrip(cur, out);
  // .lower()
  scratch.clear();
  PythonLower(out, scratch);
  out.swap(scratch);
}

std::u32string NormalizeClipText(std::u32string_view text) {
  std::u32string out, scratch;
  NormalizeClipText(text, out, scratch);
  return out;
}

std::string NormalizeClipText(std::string_view utf8_text) {
  return EncodeUtf8(NormalizeClipText(DecodeUtf8(utf8_text)));
}

}  // namespace crossmodal::text
