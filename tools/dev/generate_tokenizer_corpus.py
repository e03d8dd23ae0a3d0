#!/usr/bin/env python3
"""Generates test/fixtures/tokenizer-corpus/: the committed CLIP tokenizer corpus and its expected ids.

    /usr/bin/python3 tools/dev/generate_tokenizer_corpus.py

Outputs (deterministic; seeded):
  corpus.jsonl        one JSON string per line: punctuation, numbers, contractions, special-token
                      look-alikes, emoji, accents/case, CJK, Arabic/Hebrew/Indic and other scripts,
                      HTML entities (Python's html.unescape corner cases), long texts (up to ~4,000
                      characters), empty and whitespace-only strings, odd code points, final sigma,
                      caption-like sentences (written here, not taken from any data set), random
                      mixtures and random Unicode.
  clip_expected.jsonl one JSON object per corpus line:
                        ids   - tools/dev/clip_reference/simple_tokenizer.py SimpleTokenizer.encode (no
                                start/end tokens, no truncation) with the vocabulary of
                                test/fixtures/tiny-clip (OpenAI CLIP's 49,408 tokens),
                        clean - whitespace_clean(basic_clean(s)).lower(), the text the BPE sees,
                        pieces - the pre-tokens (re.findall of the reference pattern on clean).
                      ftfy is forced off (crossmodal does not apply ftfy.fix_text; see
                      native/text/clip_text_normalizer.h).
Needs python3-regex (Debian). Nothing here needs torch.
"""
import json, random, sys

import regex as re
from pathlib import Path
from html.entities import html5

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "dev"))
import clip_reference.simple_tokenizer as ref  # noqa: E402

ref.ftfy = None
OUT = ROOT / "test" / "fixtures" / "tokenizer-corpus"
rng = random.Random(20240601)
S = []
def add(*xs):
    for x in xs: S.append(x)

# 1. punctuation
add("Hello, world!", "...", "!!!???", "a--b", "(parens) [brackets] {braces}", "e.g. i.e. etc.", "U.S.A.",
    "#hashtag @mention", "50% off!", "$5.99 + €3,50 = £?", "C++ / C# / F#", "foo_bar-baz", "a/b\\c", "~`^|",
    '"quoted"', "'single'", "“curly” ‘quotes’", "«guillemets» ‹›", "—em dash– en dash", "…ellipsis…",
    "a.b.c", "a,b,c", "x;y:z", "?!", "¿Qué? ¡Sí!", "•bullet • point", "©®™", "§¶†‡", "<>", "<<>>", "<|>", "||",
    "a <b> c", "tag <img src=x>", "</w>", "a</w>b", "word</w>", "<w>", "http://example.com/path?q=1&r=2",
    "user@example.com", "C:\\Program Files\\", "1+1=2", "a*b", "**bold**", "__init__", "~~~", "```code```",
    "#", "##", "-", "—", "'", "''", "'''", '"', "`", "´", ",", ".", "a.", ".a", "!a!", "@@@", "^_^", ":-)", ";)", "xD",
    "<3", "</3", "->", "=>", "<=>", "!=", "==", "+=", "&", "&&", "|", "\\", "/", "//", "\\n", "%20", "%%")
# 2. numbers
add("1234567890", "3.14159", "1,000,000", "½ ¼ ¾", "x² + y³", "Ⅻ ⅻ Ⅷ", "١٢٣٤", "١٢٣ apples", "१२३", "①②③", "⑴⑵",
    "0x1F", "1st 2nd 3rd 4th", "10:30pm", "2024-01-01", "-5", "+7", "1e10", "007", "v1.2.3", "３２１ full width",
    "𝟏𝟐𝟑", "٠", "߀߁", "〇一二三", "ⅰⅱⅲ", "¹²³⁴", "₁₂₃", "99 bottles", "3D", "4K", "5G", "a1b2c3", "1a", "a1",
    "12345678901234567890123456789012345678901234567890", "phone: +1 (555) 123-4567", "¼", "⅞", "𐄇", "𒐀", "፩፪")
# 3. contractions
add("don't", "DON'T", "Don'T", "It's", "IT'S", "we're", "WE'RE", "they've", "THEY'VE", "I'm", "I'M", "I'll", "I'LL",
    "he'd", "HE'D", "'s", "''s", "'sss", "'s's", "o'clock", "rock'n'roll", "y'all", "can't", "Can’t", "don’t",
    "'S'T'RE'VE'M'LL'D", "'", "'x", "'re'", "'ree", "'lll", "'ddd", "'mm", "a's b't c're", "cats' toys",
    "'ſ", "'ſtart", "IT'ſ", "'Ʃ", "James's", "the '90s", "'tis", "ma'am", "ne'er-do-well", "'ll've", "'d'",
    "dont' t", "' s", "'\u017fs", "'K", "'\u212a")
# 4. special tokens
add("<|startoftext|>", "<|endoftext|>", "<|STARTOFTEXT|>", "<|EndOfText|>", "a<|endoftext|>b", "!!<|endoftext|>",
    "<|ſtartoftext|>", "<|ſTARTOFTEXT|>", "<|endoftext|><|endoftext|>", "<|startoftext|", "< |endoftext|>",
    "<|endoftext|>!", "x <|startoftext|> y <|endoftext|> z", "<|startoftext|>hello<|endoftext|>", "<|endoftextt|>",
    "<|endof text|>", "<<|endoftext|>", "<|<|endoftext|>", "|<|endoftext|>", "'<|endoftext|>", "<|endoftext|>'s",
    "&lt;|endoftext|&gt;", "&amp;lt;|endoftext|&amp;gt;", "&#60;|startoftext|&#62;", "&lt;|startoftext|>")
# 5. emoji
add("🐱", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "❤️", "🇺🇸🇫🇷", "cat 🐈 dog 🐕", "😀😃😄", "1️⃣", "☃", "⚽️ soccer",
    "🤷‍♀️", "🫠", "🧑🏿‍🚀", "a😀b", "😀a", "✨new✨", "🔥🔥🔥", "💯", "🙏🏻🙏🏼🙏🏽", "🐈‍⬛", "©️", "™️", "#️⃣", "🅰️")
# 6. accents / case
add("café", "naïve", "Crème Brûlée", "ÉCOLE", "cafe\u0301", "Ångström", "Straße", "STRASSE", "ẞ", "İstanbul",
    "ISTANBUL", "ıi", "İ", "i̇", "ΣΊΣΥΦΟΣ", "ΟΔΥΣΣΕΥΣ", "Ὀδυσσεύς", "ǅungla", "ǈ ǋ", "ﬁne ﬂow", "ſ", "ǰ", "ΐ",
    "K Kelvin", "Å Angstrom", "Ω Ohm", "ÆØÅ æøå", "Œuvre", "Ĳssel", "Łódź", "Ţară", "Dž", "ﬃ", "Ⓐⓑ", "🄰🄱",
    "ª º", "ÀÉÎÕÜ", "àéîõü", "Ǆǅǆ", "ᾼ ᾳ", "ᾈ", "ῼ", "Ǳ", "ǲ", "Ꭰ", "ꭰ", "Ა", "ა", "𐐀", "𐐨", "𞤀", "Ｚ", "ｚ",
    "Ω", "ϴ", "ẞß", "Ⅰ", "ⅰ", "ǅ", "ꟸ", "ʰ", "ᴬ")
# 7. CJK
add("一只猫坐在垫子上", "日本語のテキスト", "한국어 문장", "中文，标点。", "ＡＢＣ１２３", "ｶﾀｶﾅ", "カタカナ", "ひらがな",
    "漢字かな交じり文", "猫cat猫", "東京2024", "「引用」", "【注意】", "你好！世界？", "𠀀𠀁", "𪜀", "〆", "々", "ー",
    "가나다라마바사", "ㄱㄴㄷ", "가", "㈜", "㍿", "囍", "龘")
# 8. other scripts
add("مرحبا بالعالم", "القطة على السجادة", "مَرْحَبًا", "שלום עולם", "שָׁלוֹם", "\u200fRTL\u200f", "\u202eevil\u202c",
    "नमस्ते दुनिया", "क्षत्रिय", "สวัสดีครับ", "ПРИВЕТ мир", "Ёлка", "ქართული", "Հայերեն", "Ελληνικά", "ΑΒΓ",
    "አማርኛ", "ᠮᠣᠩᠭᠣᠯ", "བོད་ཡིག", "ລາວ", "ខ្មែរ", "မြန်မာ", "සිංහල", "தமிழ்", "తెలుగు", "ગુજરાતી", "ਪੰਜਾਬੀ",
    "ᚠᚢᚦ", "ꦗꦮ", "𓀀𓀁", "𐌰𐌱", "Ꮳ", "ᐃᓄᒃᑎᑐᑦ", "ߒߞߏ", "ܐܪܡܝܐ", "ދިވެހި", "Tiếng Việt", "Türkçe İı",
    "Azərbaycan", "Ελληνικά ΣΟΦΟΣ σοφος", "ﷺ", "ﷲ", "ﻻ", "ﭐ")
# 9. HTML entities
add("&amp;amp;", "&lt;", "&eacute;", "&#39;", "&amp;", "&AMP", "&AMP;", "&ampx", "&notit;", "&notin;", "&#x27;",
    "&#X41;", "&#65", "&#0;", "&#128;", "&#x80;", "&#150;", "&#xD800;", "&#1114112;", "&#99999999999999999999;",
    "&#x110000;", "&#x1F600;", "&#11;", "&#x7f;", "&#xfffe;", "&#x10FFFF;", "&#13;", "&#10;", "a&#10;b", "&nbsp;",
    "&nbsp", "a&nbsp;b", "&NotNestedGreaterGreater;", "&#", "&#;", "&#x;", "&;", "&", "&&", "&&amp;", "& amp;",
    "&amp;lt;", "&amp;amp;amp;", "&eacute", "&Eacute", "&copy2024", "&lt3", "&gtx", "&am", "&a", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;",
    "&CounterClockwiseContourIntegral;", "&CounterClockwiseContourIntegral", "&#x00000041;", "&#0000065;",
    "&#x41;&#x42;", "AT&T", "Q&A", "R&amp;D", "&quot;quoted&quot;", "&apos;s", "&#39;t", "don&#39;t", "DON&#39;T",
    "&Sigma;", "&szlig;", "&#304;", "&#931;", "Α&#931;", "&nbsp&nbsp", "&#x2028;", "&#x1c;", "&#8203;", "&#x200B;x",
    "&amp;#39;", "&amp;#x41;", "&#38;amp;", "&#38;#38;amp;", "&#x26;lt;", "&lt&gt", "&ltgt;", "&lt;&gt;", "&LT;",
    "&Lt;", "&lT;", "&euro;", "&euro", "&hellip;", "&mdash;&ndash;", "&frac12;", "&frac12", "&sup2;", "&#8364;",
    "&#x20AC;", "&#x20ac", "&#X20AC", "&#xg;", "&#xx41;", "&##65;", "&&#65;", "&#65;;", "&#65&#66", "&#-1;",
    "&#+1;", "&#١٢;", "&é;", "&aé;", "&ampé", "&amp\u00e9", "&lté", "&\u00e9acute;", "&#x1D400;", "&#119808;",
    "&#x;&#X;", "&x41;", "&#9;", "&#x9;x", "&#32;", "a&#32;&#32;b", "&#160;x", "&#8232;", "&#12288;", "&#0065",
    "&#00;", "&#x0;", "&#129;", "&#x81;", "&#141;", "&#x9D;", "&#159;", "&#x9f;", "&#127;", "&#x7F", "&#64976;",
    "&#xFDD0;", "&#xFDEF;", "&#xFDF0;", "&#x1FFFE;", "&#x10FFFE;", "&#55296;", "&#57343;", "&#57344;",
    "&#1;", "&#8;", "&#12;", "&#14;", "&#31;", "&#28;", "&#x1C;a&#x1C;", "&bne;", "&nvlt;", "&fjlig;", "&ThickSpace;",
    "&NegativeMediumSpace;", "&ZeroWidthSpace;", "&NewLine;", "&Tab;", "&NoBreak;", "&InvisibleTimes;",
    "&af;", "&ic;", "&it;", "&Aacute;&aacute;&Acirc;", "&acE;", "&amp;eacute;", "&amp;&amp;", "&amp&amp",
    "&\t", "&\n", "&\r", "&\x0c", "& ", "&<", "&#", "&;", "&\u00a0", "&\x0b;", "&\r;", "&\x1c;", "&\u3000;",
    "&" + "a" * 31 + ";", "&" + "a" * 32 + ";", "&" + "a" * 33 + ";", "&lt" + "x" * 40, "&" + "x" * 40 + "&lt;")
# random entity soup
names = sorted(html5)
for i in range(150):
    parts = []
    for _ in range(rng.randint(1, 6)):
        k = rng.random()
        if k < 0.3: parts.append('&' + rng.choice(names))
        elif k < 0.4: parts.append('&' + rng.choice(names).rstrip(';'))
        elif k < 0.55: parts.append('&#%d%s' % (rng.choice([0, 9, 10, 13, 28, 32, 38, 39, 60, 65, 128, 150, 160, 931, 8203, 8232, 65279, 0x1F600, 0x110000, rng.randint(0, 200000)]), rng.choice([';', '', ';;'])))
        elif k < 0.7: parts.append('&#%s%x%s' % (rng.choice('xX'), rng.choice([0, 0x26, 0x3c, 0x80, 0x9f, 0xa0, 0xd800, 0x3a3, 0x130, 0xfffe, rng.randint(0, 0x120000)]), rng.choice([';', ''])))
        elif k < 0.8: parts.append('&amp;' + rng.choice(['lt;', 'gt;', '#39;', 'amp;', 'nbsp;', 'eacute', '#x41;', 'notit;']))
        else: parts.append(rng.choice(['a', ' ', 'B', '&', '#', ';', 'x', '1', 'é', '\u3000', "'s", 'Σ', 'İ', '<|', '|>']))
    add(''.join(parts))
# 10. long texts (capped near 4,000 characters so the fixture stays small)
add("a" * 4000, "the cat " * 500, "1234567890" * 300, "!?" * 1000, "😀" * 500, "猫" * 1000,
    ''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(3000)),
    ''.join(rng.choice('etaoinshrdlu') for _ in range(2000)),
    ' '.join(''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(1, 12))) for _ in range(400)),
    "supercalifragilisticexpialidocious" * 20, "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "é" * 1500, "ab" * 1500, "A" * 200, "&amp;" * 600, "&amp;amp;" * 300, " " * 1500 + "x" + " " * 1500,
    "ΣΑΣ" * 800, "İ" * 1000, "a'" * 1000, "<|endoftext|>" * 100, "\u0345" * 100 + "x",
    "A man in a red jacket is standing on a rock . " * 40)
# 11. empty / whitespace
add("", " ", "  ", "\t\n", "\u3000", "\u00a0", "\u2028", "\u2029", "\x1c", "\x1c\x1d\x1e\x1f", " \x1c ", "a\x1cb",
    "a \x1c b", "\x1c a \x1c", "\x1c\ta\t\x1c", "\u200b", "a\u200bb", "\ufeff", "\ufeffhello", "\u180e", "a\u180eb",
    "\u2060", "\u00ad", "soft\u00adhyphen", "\x85", "a\x85b", "\x0b\x0c", "a\r\nb", "  multiple   spaces  ",
    "\u2000\u2001\u200a", "a\u2000\u2001\u200ab", "\u202f", "a\u202fb", "\u205f", "\u1680", "a\u1680b", "\r", "\n\n\n",
    "\t \n \r \x0b \x0c", "x\u3000y\u3000\u3000z", "\u00a0\u00a0a\u00a0\u00a0", "\u200c\u200d", "a\u200db",
    "\u2061\u2062\u2063\u2064", "\u061c", "\u2066x\u2069", "\u3164", "\u115f", "\u2800", "\uffa0", "\x1f \x1f",
    " \x1c\x1d ", "\x1ca", "a\x1c", "\u1160", "\u17b4", "\u034f")
# 12. odd code points
add("\x00", "a\x00b", "\x07\x1b[31mred\x1b[0m", "\u0301", "\u0345", "a\u0345b", "ι\u0345", "\u0345\u0345",
    "x\ufe0fy", "\ue000", "\ufffe", "\uffff", "\U0010ffff", "\U0001f600", "\ufffd", "\u200d", "\U000e0041\U000e007f",
    "𝐀𝐁𝐂 𝟏𝟐𝟑", "ℌ𝔥", "ℵ", "Ⅼ", "℃", "№", "™", "∞≠≤", "∑∏∫", "√2", "π≈3.14", "°C", "µ", "ℓ", "℮", "⁂", "〽",
    "\U000f0000", "\U00100000", "\u0378", "\u0e3a", "\U0001e030", "\U00011f00", "\U00031350", "\U0002ebf0",
    "a\u0300\u0301\u0302b", "Z\u0351\u0352\u0353a\u0354l\u0355g\u0356o", "e\u0301\u0345", "\u0345a", "\u0345'", "'\u0345s",
    "\u0085x\u0085", "\x7f", "\x80", "\x9f", "\u00b7", "\u0387", "\u2027", "\ufe55", "\uff07")
# 13. final sigma & lower edge cases
add("Σ", "ΑΣ", "ΑΣ.", "ΑΣ'Α", "Α'Σ", "Σ Σ", "ΑΣΑ", "A\u0301Σ", "ΑΣ\u0301", "1Σ", "ⅠΣ", "ªΣ", "ⒶΣ", "🄰Σ",
    "ΑΣ\u0345", "ΑΣ\u0301Α", "Α.Σ", "Α:Σ", "ΑΣ:Α", "Α\u00adΣ", "ΑΣ\u00adΒ", "ʰΣ", "ΑʰΣ", "ΑΣʰ", "ΑΣʰΑ", "ΣΣΣ",
    "ΑΣ\U0001f600", "ΑΣ1", "ΑΣΣ", "ΑΣ Σ", "σΣ", "ςΣ", "ΣΣ", "İΣ", "İ\u0307", "ΑΣ\u200b", "Α\u200bΣ", "ΑΣ\u0e4e",
    "ΑΣ\u0ece", "ΑΣ\U00011f00", "ǅΣ", "Α\u2018Σ", "ΑΣ\u2019Β", "Α\u00b7Σ", "ΑΣ&#769;", "Α&Sigma;", "&Alpha;&Sigma;",
    "ΜΈΓΑΣ ΛΌΓΟΣ", "ΌΣΟ", "ΑΣ-", "ΑΣ_", "ΑΣ…", "ΑΣ\x00", "ΑΣ\ufffd", "ⅰΣ", "ⓐΣ", "ΑΣⓐ", "ΑΣⅠ")
# 14. caption-like sentences, with the variations real inputs show
subjects = ["A dog", "Two children", "A woman in a blue dress", "The man", "A black and white cat", "Three girls",
            "A boy wearing a red shirt", "An old man with a cane", "A brown dog", "A group of people", "A surfer",
            "A little girl", "Two men", "A bird", "A baby"]
verbs = ["is running through", "are playing in", "is jumping over", "sits on", "is climbing", "walks along",
         "is swimming in", "stands next to", "is riding a bike down", "looks at", "is lying on", "rides a wave near"]
objects = ["the grass", "a muddy puddle", "the snow", "a wooden fence", "the beach", "a busy street", "the water",
           "a red building", "the playground", "a rock wall", "the stairs", "a field of flowers"]
caps = []
for _ in range(120):
    c = f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)} ."
    if rng.random() < 0.3: c = c.replace(" .", ", while another one watches .")
    if rng.random() < 0.2: c = c.replace("A ", "A dog's ", 1)
    caps.append(c)
for c in caps:
    v = rng.randint(0, 6)
    if v == 0: add(c.upper())
    elif v == 1: add(c.replace(' ', '  \t '))
    elif v == 2: add(c.replace("'", "&#39;").replace('&', '&amp;'))
    elif v == 3: add(c.title())
    elif v == 4: add('  ' + c + ' 🐶 ')
    elif v == 5: add(c.replace('a', 'á').replace('e', 'é'))
    else: add(c)
# 15. random mixtures from a character pool
pool = list("aAzZ09 '\t\n.,!?<>|&;#xX") + ["'s", "'T", "&amp;", "&lt;", "&#39;", "<|endoftext|>", "é", "É", "ß",
        "İ", "Σ", "ς", "ſ", "K", "猫", "😀", "👍🏽", "\u0301", "\u0345", "\u200b", "\u3000", "\u00a0", "\x1c", "\x85",
        "١", "½", "Ⅻ", "①", "ﬁ", "ǅ", "\u2028", "\ufeff", "\x00", "م", "ש", "न", "ก", "Ж", "한", "ｶ", "Ａ", "\U0001f1fa"]
for i in range(250):
    add(''.join(rng.choice(pool) for _ in range(rng.randint(1, 40))))
# 16. random Unicode soup (assigned and unassigned code points, no surrogates)
for i in range(100):
    s = []
    for _ in range(rng.randint(1, 30)):
        cp = rng.choice([rng.randint(0x20, 0x7f), rng.randint(0x80, 0x800), rng.randint(0x800, 0xd7ff),
                         rng.randint(0xe000, 0xffff), rng.randint(0x10000, 0x10ffff), rng.randint(0x1f300, 0x1faff)])
        s.append(chr(cp))
    add(''.join(s))

# dedupe, keep order
seen = set(); out = []
for s in S:
    if s not in seen:
        seen.add(s); out.append(s)

tok = ref.SimpleTokenizer(ROOT / "test/fixtures/tiny-clip/vocab.json", ROOT / "test/fixtures/tiny-clip/merges.txt")
OUT.mkdir(parents=True, exist_ok=True)
with open(OUT / "corpus.jsonl", "w", encoding="utf-8") as f:
    for s in out:
        f.write(json.dumps(s, ensure_ascii=False) + "\n")
with open(OUT / "clip_expected.jsonl", "w", encoding="utf-8") as f:
    for s in out:
        clean = ref.whitespace_clean(ref.basic_clean(s)).lower()
        pieces = re.findall(ref.PAT, clean)
        f.write(json.dumps({"ids": tok.encode(s), "clean": clean, "pieces": pieces}, ensure_ascii=False) + "\n")
print(f"{len(out)} strings -> {OUT}")
