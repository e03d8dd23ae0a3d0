// Text cleanup of OpenAI CLIP's simple_tokenizer.py, reproduced exactly in C++.
//
// The reference (openai/CLIP clip/simple_tokenizer.py, also vendored by open_clip) does
//
//     text = whitespace_clean(basic_clean(text)).lower()
//     basic_clean(t)      = html.unescape(html.unescape(ftfy.fix_text(t))).strip()
//     whitespace_clean(t) = regex.sub(r'\s+', ' ', t).strip()
//
// and this module implements every step except ftfy.fix_text:
//
//  * ftfy.fix_text is NOT applied. OpenAI's simple_tokenizer.py calls ftfy.fix_text(text)
//    first (it imports ftfy, so it cannot run without it); ports that must run without
//    ftfy replace it by the identity, and that is what we implement: our output equals
//    the reference with `fix_text = lambda t: t`. fix_text (defaults) would additionally
//    repair mojibake, fix C1 controls / line breaks, remove control characters, expand
//    Latin ligatures, map full-width forms, straighten curly quotes and apply NFC; for
//    clean NFC text without such characters it is a no-op and the results coincide.
//  * html.unescape (CPython 3.11 Lib/html/__init__.py), applied twice: numeric
//    references `&#[0-9]+;?` and `&#[xX][0-9a-fA-F]+;?` with CPython's remapping
//    (0x00 -> U+FFFD, 0x0D, 0x80..0x9F -> Windows-1252, surrogates / > U+10FFFF ->
//    U+FFFD, noncharacters and most C0/C1 controls -> removed), and named references
//    `&name;?` (name = up to 32 chars from [^\t\n\f <&#;]) against the FULL HTML5
//    table (all 2231 names of html.entities.html5, incl. the 106 legacy names without
//    ';' and the longest-prefix rule, e.g. "&ampx" -> "&x", "&notit;" -> "¬it;").
//    Generated into html_entities.inc by gen_html_entities.py.
//    One documented divergence: a decimal reference with more than 4300 digits makes
//    CPython >= 3.11 raise ValueError (int() digit limit); we treat it like any other
//    out-of-range number (U+FFFD, or its value if it is <= 0x10FFFF, e.g. leading zeros).
//  * str.strip() uses Python's str.isspace() set (IsPythonSpace: 29 code points,
//    including U+001C..U+001F), while `\s` of the `regex` module (IsRegexSpace) is the
//    25-code-point Unicode White_Space set WITHOUT U+001C..U+001F. Both are reproduced;
//    U+200B, U+180E, U+FEFF (zero-width / BOM) are not whitespace for either.
//  * str.lower(): full Unicode lowercase mapping (CPython 3.11 = Unicode 14.0): simple
//    mappings from utf8proc, plus the only unconditional SpecialCasing lowercase
//    (U+0130 'İ' -> "i̇" = U+0069 U+0307) and CPython's Final_Sigma rule (U+03A3 -> 'ς'
//    when preceded by a cased letter and not followed by one, skipping case-ignorable
//    characters; evaluated over the whole string, as CPython does).
//
// Unicode versions (checked exhaustively over all 1,112,064 scalar values against
// /usr/bin/python3 3.11.2 + regex 2022.10.31): CPython 3.11's str.lower/isspace use
// Unicode 14.0, the `regex` module and utf8proc 2.8 use Unicode 15.0. The simple
// lowercase mappings and both whitespace sets are identical. Cased / Case_Ignorable (used
// only by the Final_Sigma rule) differ for 111 code points that are unassigned in 14.0
// and new in 15.0 (U+0ECE, U+10EFD..U+10EFF, U+11241, Kawi U+11F00.., ...): next to one of
// those, a capital sigma can lower to 'σ' here and 'ς' in Python 3.11 (or vice versa).
// We follow Unicode 15.0 consistently, i.e. CPython 3.12's behaviour for these.
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace crossmodal::text {

// Python str.isspace() (what str.strip() with no argument removes).
bool IsPythonSpace(char32_t cp) noexcept;
// `\s` of the Python `regex` module on str patterns (Unicode White_Space).
bool IsRegexSpace(char32_t cp) noexcept;

// One pass of Python's html.unescape. Appends to `out`.
void HtmlUnescape(std::u32string_view in, std::u32string& out);
std::u32string HtmlUnescape(std::u32string_view in);

// Python str.lower() semantics (see above). Appends to `out`.
void PythonLower(std::u32string_view in, std::u32string& out);
std::u32string PythonLower(std::u32string_view in);

// The complete reference cleanup: whitespace_clean(basic_clean(text)).lower() without
// ftfy. `out` is overwritten. `scratch` is a reusable work buffer (may be empty).
void NormalizeClipText(std::u32string_view text, std::u32string& out, std::u32string& scratch);
std::u32string NormalizeClipText(std::u32string_view text);
// UTF-8 in, UTF-8 out (ill-formed input: see utf8.h).
std::string NormalizeClipText(std::string_view utf8_text);

}  // namespace crossmodal::text
